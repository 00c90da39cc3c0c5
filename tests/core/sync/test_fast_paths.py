"""The fast paths of bundle writing and reading give exactly what the general functions give.

`record_line_text` must equal `canonical_json(record_to_json(…))` byte for byte; `parse_record_json`
and `parse_append_only_line` must accept exactly what `record_from_json(json.loads(…))` accepts
(the append-only reader may decline a line, never misread one).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.records import (
    FieldState,
    JsonValue,
    RecordKind,
    SyncRecord,
    canonical_json,
    json_scalar,
    parse_append_only_line,
    parse_record_json,
    record_from_json,
    record_line_text,
    record_to_json,
)

FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
ORIGINS = st.sampled_from(["a", "pc-b", "9f1c0c2ad8e24f0b", "z_9"])
TEXTS = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\u2028"])
)
PLAIN: st.SearchStrategy[JsonValue] = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TEXTS)
ANY_VALUE: st.SearchStrategy[JsonValue] = st.recursive(
    PLAIN | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def versions(draw: st.DrawFn) -> str:
    return Hlc(draw(st.integers(0, 10**13)), draw(st.integers(0, 5)), draw(ORIGINS)).encode()


@st.composite
def states(draw: st.DrawFn, values: st.SearchStrategy[JsonValue] = ANY_VALUE) -> FieldState:
    version = draw(versions())
    base = draw(st.none() | versions())
    if base is not None and base >= version:
        base = None
    return FieldState(draw(values), version, base, draw(st.booleans()))


@st.composite
def records(draw: st.DrawFn, values: st.SearchStrategy[JsonValue] = ANY_VALUE) -> SyncRecord:
    kind = draw(st.sampled_from(list(RecordKind)))
    deleted = draw(states(st.booleans()))
    deleted = FieldState(deleted.value and kind is RecordKind.MUTABLE, deleted.version, deleted.base, False)
    return SyncRecord(
        draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)),
        str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        kind,
        draw(st.dictionaries(FIELD_NAMES, states(values), max_size=6)),
        deleted,
    )


@st.composite
def append_only(draw: st.DrawFn) -> tuple[SyncRecord, tuple[str, ...]]:
    version = draw(versions())
    names = tuple(sorted(draw(st.sets(FIELD_NAMES, min_size=1, max_size=6))))
    fields = {name: FieldState(draw(PLAIN), version) for name, _ in zip(names, names, strict=True)}
    rid = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    table = draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True))
    return SyncRecord(table, rid, RecordKind.APPEND_ONLY, fields, FieldState(False, version)), names


def _general(line: bytes) -> Any:
    """What the general reader makes of a line: a record, or the error text."""
    try:
        record = record_from_json(json.loads(line))
    except (ValueError, RecursionError) as exc:
        return ("error", str(exc))
    return record


@settings(max_examples=400)
@given(records())
def test_record_line_text_is_canonical_json(record: SyncRecord) -> None:
    assert record_line_text(record) == canonical_json(record_to_json(record))


@settings(max_examples=300)
@given(PLAIN | ANY_VALUE)
def test_json_scalar_is_canonical_json(value: JsonValue) -> None:
    assert json_scalar(value) == canonical_json(value)


def _mutations(data: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The record object with one thing made wrong (or, sometimes, nothing)."""
    data = json.loads(json.dumps(data))
    choice = draw(st.integers(0, 11))
    field = next(iter(data["fields"]), None)
    target = data["fields"][field] if field is not None and choice >= 6 else data["deleted"]
    if choice == 0:
        data["id"] = data["id"].upper()
    elif choice == 1:
        data["table"] = draw(st.sampled_from(["Ticket", "", "9x", 5]))
    elif choice == 2:
        data["kind"] = draw(st.sampled_from(["weird", None, "MUTABLE"]))
    elif choice == 3:
        data["extra"] = 1
    elif choice == 4:
        data["deleted"]["value"] = draw(st.sampled_from(["yes", 1, None, True]))
    elif choice == 5:
        data["fields"] = draw(st.sampled_from([[], None, {"Bad": data["deleted"]}]))
    elif choice == 6:
        target["version"] = draw(st.sampled_from(["yesterday", 5, None, target["version"] + " "]))
    elif choice == 7:
        target["base"] = draw(st.sampled_from([target["version"], "x", 7, "999999999999999-000000-z"]))
    elif choice == 8:
        target["masked"] = draw(st.sampled_from([0, "no", None, True]))
    elif choice == 9:
        target.pop(draw(st.sampled_from(sorted(target))))
    elif choice == 10:
        target["value"] = draw(st.sampled_from([float("nan"), [float("inf")], {1, 2}]))
    return data


@st.composite
def record_objects(draw: st.DrawFn) -> Any:
    return _mutations(record_to_json(draw(records())), draw)


@settings(max_examples=600)
@given(record_objects())
def test_parse_record_json_accepts_exactly_what_record_from_json_accepts(data: Any) -> None:
    try:
        expected = record_from_json(data)
    except (ValueError, TypeError) as exc:  # TypeError: a set, which JSON text cannot hold
        with pytest.raises(type(exc)) as info:
            parse_record_json(data)
        assert str(info.value) == str(exc)
        return
    parsed = parse_record_json(data)
    assert parsed.to_record() == expected
    assert parsed.version == expected.version and parsed.key == expected.key
    assert parsed.is_deleted == expected.is_deleted


@settings(max_examples=500)
@given(append_only())
def test_usual_append_only_lines_take_the_fast_path(case: tuple[SyncRecord, tuple[str, ...]]) -> None:
    record, names = case
    line = canonical_json(record_to_json(record)).encode("utf-8")
    fast = parse_append_only_line(line, record.table, names)
    assert fast is not None
    assert fast == parse_record_json(json.loads(line))
    assert list(fast.fields) == list(json.loads(line)["fields"])  # same key order as json.loads


@st.composite
def damaged_lines(draw: st.DrawFn) -> tuple[bytes, str, tuple[str, ...]]:
    record, names = draw(append_only())
    text = canonical_json(record_to_json(record))
    how = draw(st.integers(0, 4))
    if how == 0:  # change one character
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(['"', "\\", "x", "1", ",", "}", "é", " "])) + text[i + 1 :]
    elif how == 1:  # insert one
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(['"', "\\", " ", "0", ',"a":1'])) + text[i:]
    elif how == 2:  # drop one
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + text[i + 1 :]
    elif how == 3:  # another reader's field list or table
        names = tuple(sorted({*names, "zz"})) if draw(st.booleans()) else names[1:]
    else:  # a non-canonical spelling of the same JSON
        text = json.dumps(json.loads(text), ensure_ascii=True, sort_keys=True)
    return text.encode("utf-8", "surrogatepass"), record.table, names


@settings(max_examples=800)
@given(damaged_lines())
def test_the_append_only_reader_never_misreads(case: tuple[bytes, str, tuple[str, ...]]) -> None:
    line, table, names = case
    fast = parse_append_only_line(line, table, names)
    if fast is None:
        return
    expected = _general(line)
    assert isinstance(expected, SyncRecord)
    assert parse_record_json(json.loads(line)) == fast
    assert fast.to_record() == expected


def test_append_only_reader_declines_what_it_does_not_know() -> None:
    rid = str(uuid.uuid4())
    v = Hlc(1, 0, "a").encode()
    record = SyncRecord(
        "ev",
        rid,
        RecordKind.APPEND_ONLY,
        {"a": FieldState(1.5, v), "b": FieldState("x", v)},
        FieldState(False, v),
    )
    line = canonical_json(record_to_json(record)).encode()
    assert parse_append_only_line(line, "ev", ("a", "b")) is None  # a float: the general path
    assert parse_append_only_line(line, "ev", ("b", "a")) is None  # names not sorted
    assert parse_append_only_line(line, "ev", ()) is None
    assert parse_append_only_line(b"\xff" + line, "ev", ("a", "b")) is None
