"""Security tables: password hashes beside the user table, and the hash-chained audit log.

`user_secret` is a side table so `user` (which syncs) never carries a password hash; it stays on this
machine. `audit_log` is append-only: each entry's hash covers its content and the previous entry's
hash, and `audit_head` repeats the last seq/hash so a log cut short at the end is detected too.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.types import UTCDateTime


class UserSecret(SQLModel, table=True):
    __tablename__ = "user_secret"

    user_id: str = Field(primary_key=True, foreign_key="user.id", max_length=36)
    # "scrypt$n$r$p$salt_b64$hash_b64": the parameters travel with the hash, so they can be raised later
    password_hash: str = Field(max_length=256)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    failed_count: int = Field(default=0)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str | None = Field(default=None, max_length=36)  # no FK: the log outlives its users
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=200)
    details: str = Field(default="{}")  # canonical JSON, hashed exactly as stored
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row (id=1): the last seq and hash appended."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True)
    last_seq: int
    last_hash: str = Field(max_length=64)
