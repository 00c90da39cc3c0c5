from __future__ import annotations

from datetime import timedelta

import pytest

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.merge import DELETED_FIELD, MergePlan, Outcome, TableCounts, merge_records, plan_merge
from dyy_desk.core.sync.records import (
    RecordKind,
    SyncRecord,
    delete_record,
    edit_record,
    mask_fields,
    mask_phone,
    new_record,
)
from tests.core.sync.factory import Machine, rid

Store = dict[tuple[str, str], SyncRecord]


def apply(store: Store, plan: MergePlan) -> None:
    for record in plan.writes:
        store[record.key] = record


def _hlc(records: list[SyncRecord]) -> Hlc:
    return max(Hlc.parse(r.version) for r in records)


@pytest.fixture
def two() -> tuple[Machine, Machine, SyncRecord]:
    a, b = Machine("a"), Machine("b", skew_s=2)
    base = new_record("ticket", rid(1), {"status": "new", "title": "换货", "phone": "13812345678"}, a.tick())
    b.clock.receive(_hlc([base]), b.now)
    return a, b, base


def test_new_records_then_idempotent(two: tuple[Machine, Machine, SyncRecord]) -> None:
    _, _, base = two
    event = new_record(
        "ticket_event", rid(9), {"text": "买家来电"}, Machine("c").tick(), kind=RecordKind.APPEND_ONLY
    )
    store: Store = {}
    plan = plan_merge(store, [base, event, base])
    assert plan.counts == {"ticket": TableCounts(new=1), "ticket_event": TableCounts(new=1)}
    assert plan.writes == (base, event)
    apply(store, plan)
    again = plan_merge(store, [base, event])
    assert again.is_noop and again.conflicts == ()
    assert again.counts["ticket"] == TableCounts(unchanged=1)


def test_different_fields_both_survive_without_conflict(two: tuple[Machine, Machine, SyncRecord]) -> None:
    a, b, base = two
    mine = edit_record(base, {"status": "in_progress"}, a.tick())
    theirs = edit_record(base, {"title": "换货（尺码）"}, b.tick())
    plan = plan_merge({mine.key: mine}, [theirs])
    assert plan.conflicts == ()
    assert plan.outcomes[mine.key] is Outcome.CHANGED
    assert plan.writes[0].values == {"status": "in_progress", "title": "换货（尺码）", "phone": "13812345678"}
    assert merge_records(mine, theirs) == merge_records(theirs, mine)


def test_concurrent_edits_of_one_field_are_listed_and_newest_wins(
    two: tuple[Machine, Machine, SyncRecord],
) -> None:
    a, b, base = two
    mine = edit_record(base, {"status": "resolved"}, a.tick())
    theirs = edit_record(base, {"status": "waiting_buyer"}, b.tick())  # b's clock is 2 s ahead
    plan = plan_merge({mine.key: mine}, [theirs])
    assert plan.counts["ticket"] == TableCounts(conflicting=1)
    (conflict,) = plan.conflicts
    assert (conflict.table, conflict.record_id, conflict.field) == ("ticket", rid(1), "status")
    assert (conflict.kept, conflict.discarded) == ("waiting_buyer", "resolved")
    assert (conflict.kept_origin, conflict.discarded_origin) == ("b", "a")
    # The other side sees the same conflict, keeps the same value and writes nothing.
    other = plan_merge({theirs.key: theirs}, [mine])
    assert other.is_noop and other.conflicts[0].kept == "waiting_buyer"
    assert other.outcomes[mine.key] is Outcome.CONFLICTING


def test_sequential_handoff_and_stale_bundle_are_not_conflicts(
    two: tuple[Machine, Machine, SyncRecord],
) -> None:
    a, b, base = two
    first = edit_record(base, {"status": "in_progress"}, a.tick())
    b.clock.receive(_hlc([first]), b.now)
    second = edit_record(first, {"status": "resolved"}, b.tick())
    forward = plan_merge({first.key: first}, [second])
    assert forward.conflicts == () and forward.outcomes[first.key] is Outcome.CHANGED
    stale = plan_merge({second.key: second}, [first, base])
    assert stale.conflicts == () and stale.is_noop and stale.outcomes[first.key] is Outcome.UNCHANGED


def test_tombstone_beats_older_and_loses_to_newer(two: tuple[Machine, Machine, SyncRecord]) -> None:
    a, b, base = two
    edited = edit_record(base, {"status": "in_progress"}, a.tick())
    deleted = delete_record(base, b.tick())  # later than a's edit
    merged = merge_records(edited, deleted)
    assert merged.is_deleted and merged.values["status"] == "in_progress"
    plan = plan_merge({edited.key: edited}, [deleted])
    assert [c.field for c in plan.conflicts] == [DELETED_FIELD]
    a.clock.receive(_hlc([deleted]), a.now + timedelta(seconds=5))
    revived = edit_record(merged, {"status": "new"}, a.tick())
    assert not merge_records(revived, deleted).is_deleted
    assert plan_merge({revived.key: revived}, [deleted]).is_noop


def test_masked_value_never_overwrites_real(two: tuple[Machine, Machine, SyncRecord]) -> None:
    _, b, base = two
    newer_elsewhere = edit_record(base, {"status": "resolved"}, b.tick())
    incoming = mask_fields(newer_elsewhere, ["phone"], mask_phone)
    plan = plan_merge({base.key: base}, [incoming])
    (written,) = plan.writes
    assert written.values["phone"] == "13812345678" and written.masked_fields == frozenset()
    assert written.values["status"] == "resolved"
    assert plan.conflicts == ()
    # Even a masked value written later than the real one loses to it …
    masked_edit = edit_record(base, {"phone": "139****0000"}, b.tick(), masked={"phone"})
    assert merge_records(base, masked_edit).values["phone"] == "13812345678"
    # … while a real value always replaces a masked placeholder.
    first_masked = mask_fields(base, ["phone"], mask_phone)
    assert merge_records(first_masked, base).values["phone"] == "13812345678"
    assert plan_merge({base.key: first_masked}, [base]).outcomes[base.key] is Outcome.CHANGED


def test_append_only_is_a_union_without_conflicts() -> None:
    a, b = Machine("a"), Machine("b")
    e1 = new_record("audit_log", rid(1), {"action": "login"}, a.tick(), kind=RecordKind.APPEND_ONLY)
    e2 = new_record("audit_log", rid(2), {"action": "export"}, b.tick(), kind=RecordKind.APPEND_ONLY)
    clash = new_record("audit_log", rid(1), {"action": "forged"}, b.tick(), kind=RecordKind.APPEND_ONLY)
    plan = plan_merge({e1.key: e1}, [e2, e1, clash])
    assert plan.conflicts == ()
    assert plan.counts["audit_log"].new == 1
    assert merge_records(e1, clash) == merge_records(clash, e1)


def test_kind_or_key_mismatch_is_refused() -> None:
    a = Machine("a")
    r = new_record("ticket", rid(1), {"x": 1}, a.tick())
    with pytest.raises(ValueError):
        merge_records(r, new_record("ticket", rid(1), {"x": 1}, a.tick(), kind=RecordKind.APPEND_ONLY))
    with pytest.raises(ValueError):
        merge_records(r, new_record("ticket", rid(2), {"x": 1}, a.tick()))


def test_plan_refuses_a_record_whose_kind_differs_from_the_local_one() -> None:
    a = Machine("a")
    local = new_record("ticket", rid(1), {"x": 1}, a.tick())
    odd = new_record("ticket", rid(1), {"x": 1}, a.tick(), kind=RecordKind.APPEND_ONLY)
    with pytest.raises(BundleError) as info:
        plan_merge({local.key: local}, [odd])
    assert info.value.reason is Refusal.MALFORMED and info.value.table == "ticket"
