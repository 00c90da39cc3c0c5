"""The audit log: append inside the caller's transaction, verify the whole hash chain.

Every entry's hash is SHA-256 over a canonical JSON encoding of (seq, at, actor, action, target,
details, prev_hash); the first entry chains from 64 zeros. `audit_head` repeats the last seq and hash,
so deleting entries at the end is caught as surely as editing, reordering or deleting in the middle.
The chain proves the log was not changed by anything short of rewriting every later entry *and* the
head; it is tamper evidence against edits of the file, not a signature.

Threading contract: `append_audit` never opens or commits a transaction; the caller's change and its
audit entry commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlmodel import SQLModel

from dyy_desk.db import models_security  # noqa: F401 - registers the audit tables

audit_log = SQLModel.metadata.tables["audit_log"]
audit_head = SQLModel.metadata.tables["audit_head"]
GENESIS = "0" * 64
_HEAD_ID = 1


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor_id: str | None
    action: str
    target: str
    details: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    reason: str  # plain Chinese, names the entry


@dataclass(frozen=True)
class AuditReport:
    entries: int
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None


def canonical_details(details: Mapping[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(
    *, seq: int, at: datetime, actor_id: str | None, action: str, target: str, details: str, prev_hash: str
) -> str:
    instant = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    encoded = json.dumps(
        [seq, instant, actor_id, action, target, details, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def append_audit(
    conn: Connection,
    *,
    at: datetime,
    actor_id: str | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's open transaction; never put a buyer's phone in `details`."""
    if at.utcoffset() is None:
        raise ValueError("audit time must be timezone-aware")
    head = conn.execute(
        select(audit_head.c.last_seq, audit_head.c.last_hash).where(audit_head.c.id == _HEAD_ID)
    ).first()
    seq, prev = (head.last_seq + 1, head.last_hash) if head else (1, GENESIS)
    text = canonical_details(details or {})
    at = at.astimezone(UTC)
    digest = entry_hash(
        seq=seq, at=at, actor_id=actor_id, action=action, target=target, details=text, prev_hash=prev
    )
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor_id=actor_id,
            action=action,
            target=target,
            details=text,
            prev_hash=prev,
            hash=digest,
        )
    )
    if head:
        conn.execute(
            update(audit_head).where(audit_head.c.id == _HEAD_ID).values(last_seq=seq, last_hash=digest)
        )
    else:
        conn.execute(insert(audit_head).values(id=_HEAD_ID, last_seq=seq, last_hash=digest))
    return AuditEntry(seq, at, actor_id, action, target, text, prev, digest)


def last_entries(conn: Connection, *, limit: int | None = None) -> list[AuditEntry]:
    """Newest last; `limit` keeps only the last N."""
    stmt = select(audit_log).order_by(audit_log.c.seq.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [AuditEntry(**dict(r)) for r in conn.execute(stmt).mappings()]
    return rows[::-1]


def verify_audit(conn: Connection) -> AuditReport:
    """Walk the chain in seq order and name every entry that was edited, moved or removed."""
    problems: list[AuditProblem] = []
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings():
        entry = AuditEntry(**dict(row))
        count += 1
        if entry.seq != expected_seq:
            missing = (
                f"第 {expected_seq} 条"
                if entry.seq == expected_seq + 1
                else f"第 {expected_seq}–{entry.seq - 1} 条"
            )
            problems.append(AuditProblem(expected_seq, f"审计日志{missing}缺失（已被删除）"))
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            target=entry.target,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            problems.append(
                AuditProblem(entry.seq, f"审计日志第 {entry.seq} 条（{entry.action}）内容被改动或顺序被调换")
            )
        elif entry.prev_hash != prev_hash and entry.seq == expected_seq:
            if entry.seq == 1:
                problems.append(AuditProblem(1, "审计日志第 1 条被替换（它不是日志的起点）"))
            else:
                before = entry.seq - 1
                problems.append(
                    AuditProblem(
                        before,
                        f"审计日志第 {before} 条被改动或替换（第 {entry.seq} 条记录的前一条哈希与它不符）",
                    )
                )
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = conn.execute(select(audit_head).where(audit_head.c.id == _HEAD_ID)).mappings().first()
    last_seq = expected_seq - 1
    if head is None:
        if count:
            problems.append(AuditProblem(last_seq, "审计日志的末尾记录（audit_head）缺失"))
    elif head["last_seq"] > last_seq:
        first_missing = last_seq + 1
        span = (
            f"第 {first_missing} 条"
            if head["last_seq"] == first_missing
            else (f"第 {first_missing}–{head['last_seq']} 条")
        )
        problems.append(AuditProblem(first_missing, f"审计日志末尾的{span}缺失（日志被截断）"))
    elif head["last_seq"] < last_seq or head["last_hash"] != prev_hash:
        problems.append(
            AuditProblem(
                head["last_seq"], f"审计日志第 {head['last_seq']} 条与末尾记录不符（末尾条目被改动或追加）"
            )
        )
    problems.sort(key=lambda p: p.seq)
    return AuditReport(entries=count, problems=tuple(problems))


def entry_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
