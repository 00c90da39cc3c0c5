"""Merge plan: what importing records would write, and which concurrent edits it would discard.

`merge_records` is a join: per field it keeps the state with the highest `FieldState.rank`, which is
a total order. A join is commutative, associative and idempotent, so any set of bundles imported in
any order, any number of times, gives every machine the same rows. Conflict reporting is separate
and best effort: it only decides what to tell people, never what is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import origin_of
from dyy_desk.core.sync.records import FieldState, JsonValue, RecordKind, SyncRecord, canonical_json

DELETED_FIELD = "_deleted"  # the field name conflicts on the tombstone are reported under


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    CONFLICTING = "conflicting"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Conflict:
    """Two machines wrote one field without seeing each other's write; one value was kept."""

    table: str
    record_id: str
    field: str
    kept: JsonValue
    discarded: JsonValue
    kept_version: str
    discarded_version: str

    @property
    def kept_origin(self) -> str:
        return origin_of(self.kept_version)

    @property
    def discarded_origin(self) -> str:
        return origin_of(self.discarded_version)


@dataclass(frozen=True)
class TableCounts:
    new: int = 0
    changed: int = 0
    conflicting: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class MergePlan:
    counts: dict[str, TableCounts]
    writes: tuple[SyncRecord, ...]  # merged rows to insert or replace, sorted by (table, id)
    conflicts: tuple[Conflict, ...]
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)

    @property
    def is_noop(self) -> bool:
        return not self.writes


def merge_records(a: SyncRecord, b: SyncRecord) -> SyncRecord:
    if a.key != b.key:
        raise ValueError(f"cannot merge {a.key} with {b.key}")
    if a.kind is not b.kind:
        raise ValueError(f"{a.table} {a.id}: kind differs ({a.kind} vs {b.kind})")
    fields: dict[str, FieldState] = {}
    for name in sorted(a.fields.keys() | b.fields.keys()):
        mine, theirs = a.fields.get(name), b.fields.get(name)
        if mine is not None and theirs is not None:
            fields[name] = _winner(mine, theirs)
        elif mine is not None:
            fields[name] = mine
        elif theirs is not None:
            fields[name] = theirs
    return replace(a, fields=fields, deleted=_winner(a.deleted, b.deleted))


def plan_merge(local: Mapping[tuple[str, str], SyncRecord], incoming: Iterable[SyncRecord]) -> MergePlan:
    """Merge `incoming` (one bundle or several, duplicates allowed) into `local` (keyed by (table, id)).

    `local` needs to hold only the rows whose keys appear in `incoming`.
    """
    current: dict[tuple[str, str], SyncRecord] = {}
    conflicted: set[tuple[str, str]] = set()
    conflicts: list[Conflict] = []
    for record in incoming:
        key = record.key
        before = current[key] if key in current else local.get(key)
        if before is None:
            current[key] = record
            continue
        if before.kind is not record.kind:
            raise BundleError(
                Refusal.MALFORMED,
                f"数据包中“{record.table}”表的记录 {record.id} 与本机记录的类型不一致，不能导入。",
                table=record.table,
            )
        found = [] if record.kind is RecordKind.APPEND_ONLY else _conflicts(before, record)
        if found:
            conflicted.add(key)
            conflicts.extend(found)
        current[key] = merge_records(before, record)

    outcomes: dict[tuple[str, str], Outcome] = {}
    writes = []
    tallies: dict[str, dict[Outcome, int]] = {}
    for key in sorted(current):
        merged, old = current[key], local.get(key)
        if old is None:
            outcome = Outcome.NEW
        elif key in conflicted:
            outcome = Outcome.CONFLICTING
        else:
            outcome = Outcome.UNCHANGED if merged == old else Outcome.CHANGED
        if merged != old:
            writes.append(merged)
        outcomes[key] = outcome
        table_tally = tallies.setdefault(key[0], dict.fromkeys(Outcome, 0))
        table_tally[outcome] += 1
    counts = {
        table: TableCounts(t[Outcome.NEW], t[Outcome.CHANGED], t[Outcome.CONFLICTING], t[Outcome.UNCHANGED])
        for table, t in tallies.items()
    }
    return MergePlan(counts, tuple(writes), tuple(conflicts), outcomes)


def _winner(a: FieldState, b: FieldState) -> FieldState:
    # Same order as FieldState.rank; the cheap keys first, since imports merge millions of fields.
    if a.masked != b.masked:
        return b if a.masked else a
    if a.version != b.version:
        return a if a.version > b.version else b
    return max(a, b, key=FieldState.rank)  # equal ranks mean equal states, so ties cannot matter


def _same(a: FieldState, b: FieldState) -> bool:
    return canonical_json(a.value) == canonical_json(b.value)  # JSON equality: true is not 1


def _conflicts(before: SyncRecord, incoming: SyncRecord) -> list[Conflict]:
    pairs = [(name, before.fields.get(name), incoming.fields.get(name)) for name in sorted(incoming.fields)]
    pairs.append((DELETED_FIELD, before.deleted, incoming.deleted))
    found = []
    for name, mine, theirs in pairs:
        if mine is None or theirs is None or mine == theirs:
            continue
        if mine.masked or theirs.masked or _same(mine, theirs):
            continue
        kept = _winner(mine, theirs)
        lost = theirs if kept is mine else mine
        # The writer of the kept value replaced a version at least as new as the lost one: it had
        # seen that write (or a later one), so nothing was lost behind anyone's back.
        if kept.base is not None and kept.base >= lost.version:
            continue
        if origin_of(kept.version) == origin_of(lost.version):
            continue  # one machine's own writes are sequential
        found.append(
            Conflict(before.table, before.id, name, kept.value, lost.value, kept.version, lost.version)
        )
    return found
