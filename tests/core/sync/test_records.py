from __future__ import annotations

import json

import pytest

from dyy_desk.core.sync.records import (
    RecordKind,
    delete_record,
    edit_record,
    mask_fields,
    mask_phone,
    new_record,
    record_from_json,
    record_to_json,
)
from tests.core.sync.factory import Machine, rid


def test_edit_tracks_field_versions_and_bases() -> None:
    a = Machine("a")
    v1, v2 = a.tick(), a.tick()
    rec = new_record("ticket", rid(1), {"status": "new", "title": "退货"}, v1)
    edited = edit_record(rec, {"status": "in_progress"}, v2)
    assert edited.fields["status"].version == v2.encode()
    assert edited.fields["status"].base == v1.encode()
    assert edited.fields["title"].version == v1.encode()
    assert edited.version == v2.encode() and edited.origin == "a"
    assert edited.values == {"status": "in_progress", "title": "退货"}


def test_edits_must_move_forward_and_append_only_is_immutable() -> None:
    a = Machine("a")
    v1, v2 = a.tick(), a.tick()
    rec = new_record("ticket", rid(1), {"status": "new"}, v2)
    with pytest.raises(ValueError):
        edit_record(rec, {"status": "x"}, v1)
    event = new_record("ticket_event", rid(2), {"text": "已联系"}, v1, kind=RecordKind.APPEND_ONLY)
    with pytest.raises(ValueError):
        edit_record(event, {"text": "改"}, v2)
    with pytest.raises(ValueError):
        delete_record(event, v2)


def test_json_round_trip_and_strict_parsing() -> None:
    a = Machine("a")
    rec = new_record(
        "customer", rid(1), {"phone": "138****5678", "tags": [1, 2.5, None]}, a.tick(), masked={"phone"}
    )
    rec = delete_record(rec, a.tick())
    data = json.loads(json.dumps(record_to_json(rec)))
    assert record_from_json(data) == rec
    assert record_from_json(data).masked_fields == {"phone"}
    for broken in [
        {**data, "id": "not-a-uuid"},
        {**data, "id": rid(1).upper()},
        {**data, "table": "Ticket"},
        {**data, "kind": "weird"},
        {**data, "extra": 1},
        {**data, "deleted": {**data["deleted"], "value": "yes"}},
        {**data, "fields": {"phone": {**data["fields"]["phone"], "version": "yesterday"}}},
        {**data, "fields": {"phone": {**data["fields"]["phone"], "base": data["deleted"]["version"]}}},
    ]:
        with pytest.raises(ValueError):
            record_from_json(broken)


def test_masking_keeps_versions_and_marks_fields() -> None:
    a = Machine("a")
    rec = new_record("customer", rid(1), {"phone": "13812345678", "name": "王女士"}, a.tick())
    masked = mask_fields(rec, ["phone", "missing"], mask_phone)
    assert masked.values["phone"] == "138****5678"
    assert masked.masked_fields == {"phone"}
    assert masked.fields["phone"].version == rec.fields["phone"].version
    assert mask_phone("12345") == "1***5" and mask_phone(None) == "****"
