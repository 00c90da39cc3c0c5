"""Field versions and hashes kept per row in `sync_row`, and their compact JSON text.

A row's `meta` says, per field, which version wrote the value, which version that write replaced,
whether the value is a masked placeholder, and a CRC of the value; `row_hash` covers the whole row.
Stamping compares these with the row to find local edits, so both must be computed exactly the same
way by stamping, by every import path and by the exporter (they are part of every database: a
different spelling would make every row look edited). Versions repeat across fields, so the text
lists each once (`"v"`) and fields refer to them by position.
"""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
import operator
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ascii_text: Callable[[str], str] = json.encoder.encode_basestring_ascii  # what json.dumps uses by default

# field → (version, base, masked, value hash)
FieldMeta = tuple[str, str | None, bool, int]


@dataclass(frozen=True)
class RowMeta:
    fields: dict[str, FieldMeta]
    deleted: tuple[str, str | None, bool]  # version, base, flag value as recorded

    def max_version(self) -> str:
        return max([self.deleted[0], *(m[0] for m in self.fields.values())])


def value_hash(value: object) -> int:
    return zlib.crc32(repr(value).encode("utf-8"))


def row_hash(values: Sequence[object]) -> int:
    digest = hashlib.blake2b(repr(tuple(values)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def row_hash_of_reprs(texts: list[str]) -> int:
    """`row_hash(values)` given `[repr(v) for v in values]`: the text of `repr(tuple(values))`."""
    text = "(" + texts[0] + ",)" if len(texts) == 1 else "(" + ", ".join(texts) + ")"
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def row_hashes_of_reprs(columns: Sequence[Sequence[str]]) -> list[int]:
    """`row_hash_of_reprs` of each row of a page from its columns of reprs (at least two columns)."""
    if len(columns) < 2:
        return [row_hash_of_reprs(list(texts)) for texts in zip(*columns, strict=True)]
    texts = map("(%s)".__mod__, map(", ".join, zip(*columns, strict=True)))
    return list(map(_signed, map(_DIGEST, map(_blake8, map(str.encode, texts)))))


_blake8 = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")
_signed = functools.partial(int.from_bytes, byteorder="big", signed=True)


def encode_meta(meta: RowMeta) -> str:
    """`json.dumps({"v": […], "f": {…}, "d": […]}, separators=(",", ":"))`, written by hand (tested)."""
    versions: dict[str, int] = {}
    parts = []
    for name, (v, b, m, h) in meta.fields.items():
        vi = versions.setdefault(v, len(versions))
        bi = -1 if b is None else versions.setdefault(b, len(versions))
        key = KEYS.get(name) or KEYS.setdefault(name, ascii_text(name) + ":[")
        parts.append(f"{key}{vi},{bi},{1 if m else 0},{int(h)}]")
    dv, db, flag = meta.deleted
    dvi = versions.setdefault(dv, len(versions))
    dbi = -1 if db is None else versions.setdefault(db, len(versions))
    return (
        '{"v":['
        + ",".join(map(ascii_text, versions))
        + '],"f":{'
        + ",".join(parts)
        + f'}},"d":[{dvi},{dbi},{1 if flag else 0}]}}'
    )


KEYS: dict[str, str] = {}  # field name → its JSON key text `"name":[` (column names: a small, fixed set)


def encode_meta_reference(meta: RowMeta) -> str:
    """The generic form of `encode_meta`, kept for the test that proves them equal."""
    versions: dict[str, int] = {}

    def ref(version: str | None) -> int:
        return -1 if version is None else versions.setdefault(version, len(versions))

    fields = {name: [ref(v), ref(b), int(m), h] for name, (v, b, m, h) in meta.fields.items()}
    deleted = [ref(meta.deleted[0]), ref(meta.deleted[1]), int(meta.deleted[2])]
    return json.dumps({"v": list(versions), "f": fields, "d": deleted}, separators=(",", ":"))


def decode_meta(text: str) -> RowMeta:
    data = json.loads(text)
    versions: list[str] = data["v"]

    def get(i: int) -> str | None:
        return None if i < 0 else versions[i]

    fields = {name: (versions[v], get(b), bool(m), h) for name, (v, b, m, h) in data["f"].items()}
    d = data["d"]
    return RowMeta(fields, (versions[d[0]], get(d[1]), bool(d[2])))


def first_meta(keys: list[str], version: str, crcs: list[int], deleted: bool) -> str:
    """`encode_meta` of a row stamped for the first time: every field and the deleted flag at
    `version`, no base, not masked (tested through the import, which builds it the general way).
    One `%` template per table: most rows of a first export or import take this path."""
    return _first_template(tuple(keys)) % (ascii_text(version), *crcs, 1 if deleted else 0)


def first_metas(
    keys: list[str], versions: Sequence[str], crcs: Sequence[Sequence[int]], deleted: Sequence[bool]
) -> list[str]:
    """`first_meta` of each row of a page: `crcs` has one column of CRCs per key."""
    flags = [1 if flag else 0 for flag in deleted]
    rows = zip(map(ascii_text, versions), *crcs, flags, strict=True)
    return list(map(_first_template(tuple(keys)).__mod__, rows))


@functools.lru_cache(maxsize=256)
def _first_template(keys: tuple[str, ...]) -> str:
    fields = ",".join(key.replace("%", "%%") + "0,-1,0,%d]" for key in keys)
    return '{"v":[%s],"f":{' + fields + '},"d":[0,-1,%d]}'


def meta_keys(names: Sequence[str]) -> list[str]:
    """The JSON key text of each field (`"name":[`) for `first_meta`."""
    return [ascii_text(name) + ":[" for name in names]
