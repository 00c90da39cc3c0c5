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

import functools
import json
import json.encoder
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple, TypeAlias, cast

from dyy_desk.core.sync.hlc import HLC_RE, Hlc, is_version

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

TABLE_PATTERN = r"[a-z][a-z0-9_]{0,63}"
_TABLE_RE = re.compile(TABLE_PATTERN)
_FIELD_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def canonical_json(value: object) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, NaN refused. Checksums hash this."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# The string encoder `json.dumps(..., ensure_ascii=False)` uses (the C one where available).
_encode_str: Callable[[str], str] = json.encoder.encode_basestring


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


# --- fast paths for bundles of hundreds of thousands of records ----------------------------------
# Both are checked against the general functions above (`tests/core/sync/test_fast_paths.py`):
# `record_text` gives exactly `canonical_json(record_to_json(record))`, and `parse_record_json`
# accepts exactly what `record_from_json` accepts (anything unusual is handed to it).

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RECORD_KEYS = frozenset({"table", "id", "kind", "deleted", "fields"})
_STATE_KEYS = frozenset({"value", "version", "base", "masked"})
_PLAIN = frozenset({str, int, bool, type(None)})  # values that JSON always carries
_KINDS = {kind.value: kind for kind in RecordKind}


def json_scalar(value: JsonValue) -> str:
    """`canonical_json(value)`, quicker for the plain values rows are made of."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)  # type: ignore[arg-type]  # checked: exactly str
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]  # checked: exactly int
    return canonical_json(value)


def state_text(value_json: str, version: str, base: str | None, masked: bool) -> str:
    """Canonical JSON of one field state whose value is already canonical JSON."""
    return (
        '{"base":'
        + ("null" if base is None else _encode_str(base))
        + (',"masked":true,"value":' if masked else ',"masked":false,"value":')
        + value_json
        + ',"version":'
        + _encode_str(version)
        + "}"
    )


def record_text(
    table: str, record_id: str, kind: RecordKind, deleted: str, fields: Sequence[tuple[str, str]]
) -> str:
    """Canonical JSON of a record from the canonical JSON of its states.

    `fields` are (name, state text) pairs sorted by name, names unique; `deleted` is a state text.
    """
    return (
        '{"deleted":'
        + deleted
        + ',"fields":{'
        + ",".join([_encode_str(name) + ":" + text for name, text in fields])
        + '},"id":'
        + _encode_str(record_id)
        + ',"kind":'
        + _encode_str(kind.value)
        + ',"table":'
        + _encode_str(table)
        + "}"
    )


def record_line_text(record: SyncRecord) -> str:
    """`canonical_json(record_to_json(record))` without the generic encoder."""

    def state(s: FieldState) -> str:
        return state_text(json_scalar(s.value), s.version, s.base, s.masked)

    fields = [(name, state(record.fields[name])) for name in sorted(record.fields)]
    return record_text(record.table, record.id, record.kind, state(record.deleted), fields)


class ParsedRecord(NamedTuple):
    """A record line checked like `record_from_json`, its states left as the decoded JSON objects."""

    table: str
    id: str
    kind: RecordKind
    fields: dict[str, dict[str, JsonValue]]
    deleted: dict[str, JsonValue]
    version: str  # the record's version: the greatest version of its states

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.id)

    @property
    def is_deleted(self) -> bool:
        return self.deleted["value"] is True

    def to_record(self) -> SyncRecord:
        return SyncRecord(
            self.table,
            self.id,
            self.kind,
            {name: _state(s) for name, s in self.fields.items()},
            _state(self.deleted),
        )


def _state(s: dict[str, JsonValue]) -> FieldState:
    return FieldState(s["value"], cast(str, s["version"]), cast("str | None", s["base"]), s["masked"] is True)


def parse_record_json(data: object) -> ParsedRecord:
    """Same checks and errors as `record_from_json`, without building a state object per field."""
    if type(data) is not dict or data.keys() != _RECORD_KEYS:
        return _parse_slowly(data)
    table, record_id, kind_text, fields, deleted = (
        data["table"],
        data["id"],
        data["kind"],
        data["fields"],
        data["deleted"],
    )
    kind = _KINDS.get(kind_text) if type(kind_text) is str else None
    if (
        kind is None
        or type(table) is not str
        or type(record_id) is not str
        or type(fields) is not dict
        or type(deleted) is not dict
        or _TABLE_RE.fullmatch(table) is None
        or _UUID_RE.fullmatch(record_id) is None
        or type(deleted.get("value")) is not bool
        or deleted.get("masked") is not False
        or (kind is RecordKind.APPEND_ONLY and deleted["value"] is True)
    ):
        return _parse_slowly(data)
    good: set[str] = set()  # versions already matched: a record repeats a handful of them
    top = _state_version(deleted, good)
    if top is None:
        return _parse_slowly(data)
    for name, state in fields.items():
        version = _state_version(state, good)
        if version is None or type(name) is not str or _FIELD_RE.fullmatch(name) is None:
            return _parse_slowly(data)
        if version > top:
            top = version
    return ParsedRecord(table, record_id, kind, fields, deleted, top)


def _state_version(state: object, good: set[str]) -> str | None:
    """The state's version if the state is well formed with a plain value, else None."""
    if type(state) is not dict or state.keys() != _STATE_KEYS:
        return None
    version, base = state["version"], state["base"]
    if type(version) is not str or type(state["masked"]) is not bool or type(state["value"]) not in _PLAIN:
        return None
    if version not in good:
        if HLC_RE.fullmatch(version) is None:
            return None
        good.add(version)
    if base is not None:
        if type(base) is not str or base >= version:
            return None
        if base not in good:
            if HLC_RE.fullmatch(base) is None:
                return None
            good.add(base)
    return version


def _parse_slowly(data: object) -> ParsedRecord:
    record = record_from_json(data)  # raises the precise error for anything malformed
    assert isinstance(data, dict)
    fields = cast("dict[str, dict[str, JsonValue]]", data["fields"])
    deleted = cast("dict[str, JsonValue]", data["deleted"])
    return ParsedRecord(record.table, record.id, record.kind, fields, deleted, record.version)


_NOT_PLAIN = object()
# A scalar as `json_scalar` writes it: null, true, false, an integer, or a string with no raw
# control character (escaped strings are checked for canonical spelling after reading).
_SCALAR = r'(null|true|false|0|-?[1-9][0-9]*|"[^"\\\x00-\x1f]*"|"(?:[^"\\\x00-\x1f]|\\.)*")'
_AO_STATE = '{"base":null,"masked":false,"value":'


def match_append_only(text: str, table: str, names: tuple[str, ...]) -> tuple[str, str, list[object]] | None:
    """(version, id, values in `names` order) of the usual append-only line, or None for any other.

    The usual line is what exporters write for an append-only record: every state at one version,
    no base, not masked, fields `names` (sorted) all present, plain values. One regular expression
    per table matches every literal piece of such a line and every version against the first; a
    string value with an escape is accepted only if it writes back (`json_scalar`) to exactly its
    text. So whatever is accepted is canonical JSON and reads exactly as `json.loads` reads it.
    """
    pattern = _single_version_pattern(table, names, RecordKind.APPEND_ONLY)
    found = pattern.fullmatch(text) if pattern is not None else None
    if found is None:
        return None
    groups = found.groups()
    values = _values(groups[1:-1])
    return None if values is None else (groups[0], groups[-1], values)


def parse_mutable_line(line: bytes, table: str, names: tuple[str, ...]) -> ParsedRecord | None:
    """`parse_record_json(json.loads(line))` for a mutable record line whose states, the deleted
    flag's included, all share one version with no base and nothing masked (a row until it is edited
    again) and that has every field of `names`; None for any other line. Read the way
    `match_append_only` reads timeline lines, with the same guarantee."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    matched = match_mutable(text, table, names)
    if matched is None:
        return None
    deleted, version, record_id, values = matched
    return single_version_record(table, record_id, RecordKind.MUTABLE, names, version, values, deleted)


def match_mutable(
    text: str, table: str, names: tuple[str, ...]
) -> tuple[bool, str, str, list[object]] | None:
    """(deleted, version, id, values in `names` order) of a line `parse_mutable_line` reads, or None:
    for an import that turns the line into a row without building the record."""
    pattern = _single_version_pattern(table, names, RecordKind.MUTABLE)
    found = pattern.fullmatch(text) if pattern is not None else None
    if found is None:
        return None
    flag, version, *tokens, record_id = found.groups()
    values = _values(tokens)
    if values is None:
        return None
    return flag == "true", version, record_id, values


def _values(tokens: Sequence[str]) -> list[object] | None:
    values: list[object] = []
    for token in tokens:
        first = token[0]
        if first == '"':
            if "\\" in token:
                value = _escaped(token)
                if value is _NOT_PLAIN:
                    return None
                values.append(value)
            else:
                values.append(token[1:-1])
        elif first == "n":
            values.append(None)
        elif first == "t":
            values.append(True)
        elif first == "f":
            values.append(False)
        else:
            try:
                values.append(int(token))
            except ValueError:  # more digits than int() reads: the general path names the problem
                return None
    return values


def parse_append_only_line(line: bytes, table: str, names: tuple[str, ...]) -> ParsedRecord | None:
    """`parse_record_json(json.loads(line))` for the usual append-only line (`match_append_only`),
    or None for any other: the caller takes the general path, which also names the error."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    matched = match_append_only(text, table, names)
    if matched is None:
        return None
    version, record_id, values = matched
    return single_version_record(table, record_id, RecordKind.APPEND_ONLY, names, version, values, False)


def single_version_record(
    table: str,
    record_id: str,
    kind: RecordKind,
    names: tuple[str, ...],
    version: str,
    values: list[object],
    deleted: bool,
) -> ParsedRecord:
    """The record of a line read by `match_mutable` or `match_append_only`: built only when a
    merge needs it."""
    fields: dict[str, dict[str, JsonValue]] = {
        name: {"base": None, "masked": False, "value": value, "version": version}  # type: ignore[dict-item]
        for name, value in zip(names, values, strict=True)
    }
    flag: dict[str, JsonValue] = {"base": None, "masked": False, "value": deleted, "version": version}
    return ParsedRecord(table, record_id, kind, fields, flag, version)


@functools.lru_cache(maxsize=64)
def _single_version_pattern(table: str, names: tuple[str, ...], kind: RecordKind) -> re.Pattern[str] | None:
    if not names or _TABLE_RE.fullmatch(table) is None or list(names) != sorted(set(names)):
        return None  # no fast path: every line goes the general way
    version = "(" + _group_free(HLC_RE.pattern) + ")"
    fields = ",".join(
        re.escape(_encode_str(name) + ":" + _AO_STATE) + _SCALAR + re.escape(',"version":"') + '(?P=v)"}'
        for name in names
    )
    return re.compile(
        re.escape('{"deleted":{"base":null,"masked":false,"value":')
        + (re.escape('false,"version":"') if kind is RecordKind.APPEND_ONLY else '(true|false),"version":"')
        + version.replace("(", "(?P<v>", 1)
        + re.escape('"},"fields":{')
        + fields
        + re.escape('},"id":"')
        + "("
        + _UUID_RE.pattern
        + ")"
        + re.escape('","kind":' + _encode_str(kind.value) + ',"table":' + _encode_str(table) + "}")
    )


def _group_free(pattern: str) -> str:
    """`pattern` with its capturing groups made non-capturing (it has no escaped parentheses)."""
    return re.sub(r"\((?!\?)", "(?:", pattern)


def _escaped(token: str) -> object:
    try:
        value = json.loads(token)
    except ValueError:
        return _NOT_PLAIN
    return value if type(value) is str and _encode_str(value) == token else _NOT_PLAIN
