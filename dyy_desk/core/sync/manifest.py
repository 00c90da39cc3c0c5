"""Bundle manifest: who made a bundle, for which team, what it holds, and whether to trust it.

The manifest travels inside the encrypted file as the first JSON line. Validation refuses, with a
message a customer-service agent can act on, every bundle that must not touch the database: newer
program, other team, damaged tables, oversized content. Sequence numbers of all-changes bundles let
the import screen say which bundle of which colleague never arrived.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import check_origin
from dyy_desk.core.sync.records import JsonValue, SyncRecord, canonical_json, record_to_json

FORMAT_VERSION = 1


@dataclass(frozen=True)
class BundleLimits:
    max_tables: int = 100
    max_records_per_table: int = 500_000
    max_record_bytes: int = 1024 * 1024  # canonical JSON of one record
    max_uncompressed_bytes: int = 128 * 1024 * 1024
    max_ratio: int = 500  # uncompressed / compressed, checked once output passes ratio_floor_bytes
    ratio_floor_bytes: int = 8 * 1024 * 1024


DEFAULT_LIMITS = BundleLimits()


class ScopeKind(StrEnum):
    ALL_CHANGES = "all-changes"
    CLIENT = "client"
    LIBRARY_ONLY = "library-only"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    client_id: str | None = None
    masked: bool = False

    def encode(self) -> str:
        return f"client:{self.client_id}" if self.kind is ScopeKind.CLIENT else self.kind.value

    @classmethod
    def parse(cls, text: str, *, masked: bool) -> Scope:
        if text.startswith("client:") and len(text) > len("client:"):
            return cls(ScopeKind.CLIENT, text.removeprefix("client:"), masked)
        if text in (ScopeKind.ALL_CHANGES, ScopeKind.LIBRARY_ONLY):
            return cls(ScopeKind(text), None, masked)
        raise ValueError(f"unknown scope {text!r}")


@dataclass(frozen=True)
class TableSummary:
    count: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format_version: int
    schema_version: int
    team_id: str
    origin: str
    origin_name: str
    sequence: int  # 1, 2, 3 … per origin for all-changes bundles; 0 for every other scope
    created_at: datetime
    scope: Scope
    tables: dict[str, TableSummary]


@dataclass(frozen=True)
class Bundle:
    manifest: Manifest
    records: tuple[SyncRecord, ...]  # sorted by (table, id), as the codec writes them


def record_line(record: SyncRecord) -> bytes:
    """One record as stored in the bundle; checksums and size limits are computed over these bytes."""
    return canonical_json(record_to_json(record)).encode("utf-8")


def table_summary(records: Iterable[SyncRecord]) -> TableSummary:
    digest, count = hashlib.sha256(), 0
    for record in sorted(records, key=lambda r: r.id):
        digest.update(record_line(record) + b"\n")
        count += 1
    return TableSummary(count, digest.hexdigest())


def build_bundle(
    records: Iterable[SyncRecord],
    *,
    schema_version: int,
    team_id: str,
    origin: str,
    origin_name: str,
    sequence: int,
    created_at: datetime,
    scope: Scope,
) -> Bundle:
    ordered = tuple(sorted(records, key=lambda r: r.key))
    by_table: dict[str, list[SyncRecord]] = {}
    for record in ordered:
        by_table.setdefault(record.table, []).append(record)
    tables = {table: table_summary(rows) for table, rows in by_table.items()}
    manifest = Manifest(
        FORMAT_VERSION, schema_version, team_id, origin, origin_name, sequence, created_at, scope, tables
    )
    check_manifest_fields(manifest)
    return Bundle(manifest, ordered)


def check_manifest_fields(manifest: Manifest) -> None:
    """Shape rules the writer must follow; raises ValueError."""
    check_origin(manifest.origin)
    if not manifest.team_id or not manifest.origin_name.strip() or len(manifest.origin_name) > 100:
        raise ValueError("team id and origin display name (≤ 100 characters) are required")
    if manifest.created_at.tzinfo is None:
        raise ValueError("created_at must be an aware datetime")
    numbered = manifest.scope.kind is ScopeKind.ALL_CHANGES
    if (manifest.sequence >= 1) != numbered or manifest.sequence < 0:
        raise ValueError("all-changes bundles are numbered from 1; other scopes use sequence 0")


def manifest_to_json(manifest: Manifest) -> dict[str, JsonValue]:
    created = manifest.created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "format": manifest.format_version,
        "schema": manifest.schema_version,
        "team": manifest.team_id,
        "origin": {"id": manifest.origin, "name": manifest.origin_name},
        "sequence": manifest.sequence,
        "created_at": created,
        "scope": manifest.scope.encode(),
        "masked": manifest.scope.masked,
        "tables": {t: {"count": s.count, "sha256": s.sha256} for t, s in sorted(manifest.tables.items())},
    }


def manifest_from_json(data: object) -> Manifest:
    """Raises ValueError for anything that is not a well-formed manifest."""
    if not isinstance(data, dict):
        raise ValueError("manifest must be an object")
    try:
        origin, tables = data["origin"], data["tables"]
        manifest = Manifest(
            _int(data["format"]),
            _int(data["schema"]),
            _str(data["team"]),
            _str(origin["id"]),
            _str(origin["name"]),
            _int(data["sequence"]),
            datetime.fromisoformat(_str(data["created_at"])),
            Scope.parse(_str(data["scope"]), masked=data["masked"] is True),
            {_str(t): TableSummary(_int(s["count"]), _str(s["sha256"])) for t, s in tables.items()},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"manifest field missing or of the wrong type: {exc}") from None
    check_manifest_fields(manifest)
    return manifest


def validate_bundle(
    bundle: Bundle,
    *,
    team_id: str,
    max_schema_version: int,
    known_tables: Collection[str] | None = None,
    limits: BundleLimits = DEFAULT_LIMITS,
) -> None:
    """Raise BundleError for any reason to refuse the whole bundle; nothing is imported partially."""
    m = bundle.manifest
    if m.format_version > FORMAT_VERSION:
        raise BundleError(
            Refusal.NEWER_FORMAT,
            f"数据包格式版本为 {m.format_version}，本程序只支持到 {FORMAT_VERSION}，请先升级 DYY Desk。",
        )
    if m.schema_version > max_schema_version:
        raise BundleError(
            Refusal.NEWER_SCHEMA,
            f"数据包来自更新版本的 DYY Desk（数据版本 {m.schema_version}，本程序支持到 "
            f"{max_schema_version}），请先升级 DYY Desk。",
        )
    if m.team_id != team_id:
        raise BundleError(Refusal.OTHER_TEAM, f"这个数据包属于另一个团队（{m.team_id}），不能导入。")
    if len(m.tables) > limits.max_tables:
        raise BundleError(
            Refusal.TOO_LARGE, f"数据包包含 {len(m.tables)} 张表，超过上限 {limits.max_tables}。"
        )
    by_table: dict[str, list[SyncRecord]] = {}
    for record in bundle.records:
        by_table.setdefault(record.table, []).append(record)
    for table in sorted(by_table.keys() | m.tables.keys()):
        _check_table(table, m.tables.get(table), by_table.get(table, []), known_tables, limits)


def _check_table(
    table: str,
    summary: TableSummary | None,
    rows: list[SyncRecord],
    known_tables: Collection[str] | None,
    limits: BundleLimits,
) -> None:
    if known_tables is not None and table not in known_tables:
        raise BundleError(Refusal.MALFORMED, f"数据包包含本程序不认识的表“{table}”。", table=table)
    if summary is None:
        raise BundleError(
            Refusal.CHECKSUM, f"数据包中“{table}”表未登记在清单中，文件可能已被改动。", table=table
        )
    if len(rows) > limits.max_records_per_table:
        raise BundleError(
            Refusal.TOO_LARGE,
            f"数据包中“{table}”表有 {len(rows)} 条记录，超过上限 {limits.max_records_per_table} 条。",
            table=table,
        )
    if len(rows) != summary.count:
        raise BundleError(
            Refusal.CHECKSUM,
            f"数据包中“{table}”表应有 {summary.count} 条记录，实际只有 {len(rows)} 条，文件可能已损坏。",
            table=table,
        )
    if len({r.id for r in rows}) != len(rows):
        raise BundleError(Refusal.MALFORMED, f"数据包中“{table}”表有重复的记录。", table=table)
    for record in rows:
        size = len(record_line(record))
        if size > limits.max_record_bytes:
            raise BundleError(
                Refusal.TOO_LARGE,
                f"数据包中“{table}”表的记录 {record.id} 有 {size} 字节，超过单条上限 "
                f"{limits.max_record_bytes} 字节。",
                table=table,
            )
    if table_summary(rows).sha256 != summary.sha256:
        raise BundleError(
            Refusal.CHECKSUM, f"数据包中“{table}”表的校验和不一致，文件可能已损坏或被改动。", table=table
        )


def clock_skew_warning(
    manifest: Manifest, now: datetime, tolerance: timedelta = timedelta(hours=1)
) -> str | None:
    """A bundle made "in the future" means that machine's clock is fast; its edits would win every
    conflict until real time catches up, so the import screen should say so (the import still runs)."""
    ahead = manifest.created_at - now
    if ahead <= tolerance:
        return None
    hours = ahead.total_seconds() / 3600
    amount = f"{hours:.0f} 小时" if hours < 48 else f"{hours / 24:.0f} 天"
    return (
        f"{manifest.origin_name} 的电脑时钟比本机快约 {amount}，请双方校准系统时间；"
        "否则该电脑上的修改在冲突时会一直优先。"
    )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value
