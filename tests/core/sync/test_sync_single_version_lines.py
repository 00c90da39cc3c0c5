"""`parse_mutable_line` reads a row at one version exactly as `parse_record_json(json.loads(…))`
does, and declines (None) every line it is not sure of."""

from __future__ import annotations

import json
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.records import (
    FieldState,
    RecordKind,
    SyncRecord,
    canonical_json,
    parse_mutable_line,
    parse_record_json,
    record_to_json,
)

NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True), min_size=1, max_size=5, unique=True)
SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.text(max_size=8)


@st.composite
def rows(draw: st.DrawFn) -> tuple[SyncRecord, tuple[str, ...]]:
    names = tuple(sorted(draw(NAMES)))
    v = Hlc(
        draw(st.integers(0, 10**14)), draw(st.integers(0, 99)), draw(st.sampled_from(["a", "pc-b"]))
    ).encode()
    fields = {name: FieldState(draw(SCALARS), v) for name in names}
    record = SyncRecord(
        "ticket",
        str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        RecordKind.MUTABLE,
        fields,
        FieldState(draw(st.booleans()), v),
    )
    return record, names


@settings(max_examples=400)
@given(rows())
def test_rows_at_one_version_take_the_fast_path(case: tuple[SyncRecord, tuple[str, ...]]) -> None:
    record, names = case
    line = canonical_json(record_to_json(record)).encode("utf-8")
    fast = parse_mutable_line(line, record.table, names)
    assert fast is not None
    assert fast == parse_record_json(json.loads(line))
    assert fast.to_record() == record


@settings(max_examples=600)
@given(
    rows(),
    st.integers(0, 10_000),
    st.sampled_from(['"', "\\\\", "x", "1", ",", "}", " ", "é", "\x01"]),
    st.booleans(),
)
def test_damaged_or_unusual_lines_are_never_misread(
    case: tuple[SyncRecord, tuple[str, ...]], where: int, char: str, insert: bool
) -> None:
    record, names = case
    text = canonical_json(record_to_json(record))
    i = where % len(text)
    text = text[:i] + char + text[i if insert else i + 1 :]
    line = text.encode("utf-8", "surrogatepass")
    fast = parse_mutable_line(line, record.table, names)
    if fast is None:
        return
    assert fast == parse_record_json(json.loads(line))


def test_edited_rows_and_masked_values_go_the_general_way() -> None:
    v1, v2 = Hlc(1, 0, "a").encode(), Hlc(2, 0, "b").encode()
    rid = str(uuid.uuid4())
    edited = SyncRecord(
        "ticket",
        rid,
        RecordKind.MUTABLE,
        {"a": FieldState(1, v2, v1), "b": FieldState(2, v1)},
        FieldState(False, v2, v1),
    )
    masked = SyncRecord(
        "ticket",
        rid,
        RecordKind.MUTABLE,
        {"a": FieldState("138****5678", v1, None, True)},
        FieldState(False, v1),
    )
    for record, names in ((edited, ("a", "b")), (masked, ("a",))):
        line = canonical_json(record_to_json(record)).encode()
        assert parse_mutable_line(line, "ticket", names) is None
    plain = SyncRecord("ticket", rid, RecordKind.MUTABLE, {"a": FieldState(1, v1)}, FieldState(True, v1))
    line = canonical_json(record_to_json(plain)).encode()
    assert parse_mutable_line(line, "ticket", ("a", "b")) is None  # a field missing
    assert parse_mutable_line(line, "ticket_event", ("a",)) is None  # another table
    assert parse_mutable_line(line, "ticket", ("a",)) == parse_record_json(json.loads(line))
