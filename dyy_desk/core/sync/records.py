"""The generic syncing record: a map of fields, each an independently versioned register.

Every field carries the version (HLC) of the write that set it and the version that write replaced
(`base`), so two machines that changed different fields of one ticket both keep their edit, and a
conflict is only reported when one write replaced a value its writer had never seen. The deleted
flag is one more register: an edit also writes `deleted = False`, so a tombstone beats older writes
and loses to newer ones.

Masked personal data (`138****5678`) is flagged per field. A masked value ranks below every real
value, and a masked export keeps the field's original version, so a masked copy can never replace
the real number on a machine that has it, and merging stays order-independent.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeAlias

from dyy_desk.core.sync.hlc import Hlc, is_version

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

TABLE_PATTERN = r"[a-z][a-z0-9_]{0,63}"
_TABLE_RE = re.compile(TABLE_PATTERN)
_FIELD_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def canonical_json(value: object) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, NaN refused. Checksums hash this."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class RecordKind(StrEnum):
    MUTABLE = "mutable"  # tickets, FAQ entries, scripts …: fields change, conflicts can happen
    APPEND_ONLY = "append_only"  # timeline events, audit entries: written once, merged as a union


@dataclass(frozen=True)
class FieldState:
    value: JsonValue
    version: str
    base: str | None = None  # version this write replaced; None when the field had no value before
    masked: bool = False

    def rank(self) -> tuple[bool, str, str, str]:
        """Total order used by every merge: real beats masked, then newer version, then content."""
        return (not self.masked, self.version, canonical_json(self.value), self.base or "")


@dataclass(frozen=True)
class SyncRecord:
    """One row of a syncing table. Treat `fields` as read-only; use the functions below to change it."""

    table: str
    id: str
    kind: RecordKind
    fields: dict[str, FieldState]
    deleted: FieldState

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.id)

    @property
    def version(self) -> str:
        """The newest write anywhere in the record; export "changes since" compares this."""
        return max([self.deleted.version, *(state.version for state in self.fields.values())])

    @property
    def origin(self) -> str:
        return Hlc.parse(self.version).origin

    @property
    def is_deleted(self) -> bool:
        return self.deleted.value is True

    @property
    def values(self) -> dict[str, JsonValue]:
        return {name: state.value for name, state in self.fields.items()}

    @property
    def masked_fields(self) -> frozenset[str]:
        return frozenset(name for name, state in self.fields.items() if state.masked)


def new_record(
    table: str,
    record_id: str,
    values: Mapping[str, JsonValue],
    version: Hlc,
    *,
    kind: RecordKind = RecordKind.MUTABLE,
    masked: Iterable[str] = (),
) -> SyncRecord:
    v = version.encode()
    masked_set = frozenset(masked)
    fields = {name: FieldState(value, v, None, name in masked_set) for name, value in values.items()}
    record = SyncRecord(table, record_id, kind, fields, FieldState(False, v))
    check_record(record)
    return record


def edit_record(
    record: SyncRecord, changes: Mapping[str, JsonValue], version: Hlc, *, masked: Iterable[str] = ()
) -> SyncRecord:
    """A local edit. Editing also revives the record (a newer write beats an older tombstone)."""
    if record.kind is RecordKind.APPEND_ONLY:
        raise ValueError(f"{record.table} records are append-only")
    v = version.encode()
    if v <= record.version:
        raise ValueError(f"version {v} is not newer than {record.version}: tick the clock after imports")
    masked_set = frozenset(masked)
    fields = dict(record.fields)
    for name, value in changes.items():
        old = fields.get(name)
        fields[name] = FieldState(value, v, old.version if old else None, name in masked_set)
    edited = replace(record, fields=fields, deleted=FieldState(False, v, record.deleted.version))
    check_record(edited)
    return edited


def delete_record(record: SyncRecord, version: Hlc) -> SyncRecord:
    if record.kind is RecordKind.APPEND_ONLY:
        raise ValueError(f"{record.table} records are append-only")
    v = version.encode()
    if v <= record.version:
        raise ValueError(f"version {v} is not newer than {record.version}: tick the clock after imports")
    return replace(record, deleted=FieldState(True, v, record.deleted.version))


def mask_fields(
    record: SyncRecord, names: Iterable[str], masker: Callable[[JsonValue], JsonValue]
) -> SyncRecord:
    """Copy for a masked export. Versions are kept on purpose: see the module docstring."""
    fields = dict(record.fields)
    for name in names:
        state = fields.get(name)
        if state is not None and not state.masked and state.value is not None:
            fields[name] = replace(state, value=masker(state.value), masked=True)
    return replace(record, fields=fields)


def mask_phone(value: JsonValue) -> JsonValue:
    """`13812345678` → `138****5678`; shorter text keeps only its first and last character."""
    if not isinstance(value, str) or len(value) < 3:
        return "****"
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[0] + "*" * (len(value) - 2) + value[-1]


def check_record(record: SyncRecord) -> None:
    """Raises ValueError naming what is wrong; import refuses such records, edits never make them."""
    if not _TABLE_RE.fullmatch(record.table):
        raise ValueError(f"invalid table name {record.table!r}")
    try:
        canonical_id = str(uuid.UUID(record.id))
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"record id is not a UUID: {record.id!r}") from None
    if canonical_id != record.id:
        raise ValueError(f"record id is not in canonical UUID form: {record.id!r}")
    if not isinstance(record.deleted.value, bool) or record.deleted.masked:
        raise ValueError("the deleted flag must be a plain true/false")
    if record.kind is RecordKind.APPEND_ONLY and record.deleted.value:
        raise ValueError(f"append-only record {record.id} cannot be deleted")
    _check_state("deleted", record.deleted)
    for name, state in record.fields.items():
        if not _FIELD_RE.fullmatch(name):
            raise ValueError(f"invalid field name {name!r}")
        _check_state(name, state)


def _check_state(name: str, state: FieldState) -> None:
    if not is_version(state.version):
        raise ValueError(f"field {name}: invalid version {state.version!r}")
    if state.base is not None and (not is_version(state.base) or state.base >= state.version):
        raise ValueError(f"field {name}: base {state.base!r} must be a version older than {state.version}")
    canonical_json(state.value)  # raises for values JSON cannot carry (NaN, sets, datetimes …)


def record_to_json(record: SyncRecord) -> dict[str, JsonValue]:
    return {
        "table": record.table,
        "id": record.id,
        "kind": record.kind.value,
        "deleted": _state_to_json(record.deleted),
        "fields": {name: _state_to_json(state) for name, state in record.fields.items()},
    }


def record_from_json(data: object) -> SyncRecord:
    """Strict inverse of record_to_json; raises ValueError for anything else."""
    obj = _object(data, "record", {"table", "id", "kind", "deleted", "fields"})
    table, record_id, kind = obj["table"], obj["id"], obj["kind"]
    if not isinstance(table, str) or not isinstance(record_id, str) or not isinstance(kind, str):
        raise ValueError("table, id and kind must be text")
    try:
        record_kind = RecordKind(kind)
    except ValueError:
        raise ValueError(f"unknown record kind {kind!r}") from None
    fields_obj = obj["fields"]
    if not isinstance(fields_obj, dict):
        raise ValueError("fields must be an object")
    record = SyncRecord(
        table,
        record_id,
        record_kind,
        {str(name): _state_from_json(name, state) for name, state in fields_obj.items()},
        _state_from_json("deleted", obj["deleted"]),
    )
    check_record(record)
    return record


def _state_to_json(state: FieldState) -> dict[str, JsonValue]:
    return {"value": state.value, "version": state.version, "base": state.base, "masked": state.masked}


def _state_from_json(name: str, data: object) -> FieldState:
    obj = _object(data, f"field {name}", {"value", "version", "base", "masked"})
    version, base, masked = obj["version"], obj["base"], obj["masked"]
    if not isinstance(version, str) or not (base is None or isinstance(base, str)):
        raise ValueError(f"field {name}: version and base must be text")
    if not isinstance(masked, bool):
        raise ValueError(f"field {name}: masked must be true/false")
    return FieldState(obj["value"], version, base, masked)


def _object(data: object, what: str, keys: set[str]) -> dict[str, JsonValue]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be an object")
    if set(data) != keys:
        raise ValueError(f"{what} must have exactly the keys {sorted(keys)}, has {sorted(data)}")
    return data
