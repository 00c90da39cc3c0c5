"""Who is acting: role checks other services call, and passwords for supervisors and admins.

Passwords are hashed with scrypt (per-user random salt; the parameters are stored with the hash, so
they can be raised later without breaking old hashes) and compared in constant time. Wrong passwords
are audited and throttled per user in the database, so restarting the app or the CLI does not reset
the delay: the first few mistakes are free, then each one doubles the wait (injected clock, no sleep).

An account without a password yet may be claimed by that user once (the first password they set is
audited); after that only the user with the old password, or an admin, can change it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlmodel import SQLModel

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.db.repos.tables import users
from dyy_desk.services.audit import append_audit
from dyy_desk.services.errors import NotFound, ServiceError

user_secrets = SQLModel.metadata.tables["user_secret"]
PASSWORD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
MIN_PASSWORD_LENGTH = 6
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**14
    r: int = 8
    p: int = 1


DEFAULT_PARAMS = ScryptParams()


class AccessDenied(PermissionError):
    pass


class WrongPassword(ServiceError):
    pass


class PasswordNotSet(ServiceError):
    pass


class TooManyAttempts(ServiceError):
    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p, maxmem=256 * 2**20, dklen=32
    )


def hash_password(password: str, *, params: ScryptParams = DEFAULT_PARAMS) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, params)
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, encoded: str) -> bool:
    """True when `password` matches; a malformed stored value never matches."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(
            password, base64.b64decode(salt, validate=True), ScryptParams(int(n), int(r), int(p))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def throttle_delay(failures: int) -> timedelta:
    """No wait for the first FREE_FAILURES mistakes, then 2 s, 4 s, 8 s … up to MAX_DELAY."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** min(failures - FREE_FAILURES + 1, 20)))


def _user(conn: Connection, user_id: str | None) -> UserRow:
    row = (
        conn.execute(
            select(users.c.id, users.c.name, users.c.role, users.c.deleted).where(users.c.id == user_id)
        ).first()
        if user_id
        else None
    )
    if row is None or row.deleted:
        raise NotFound("用户不存在或已被删除；请先在右上角选择当前用户")
    return UserRow(id=row.id, name=row.name, role=Role(row.role))


def require_role(conn: Connection, actor_id: str | None, roles: Iterable[Role]) -> UserRow:
    """The acting user, or AccessDenied (plain Chinese) when their role is not one of `roles`.

    Call it inside the service's transaction, before any write."""
    actor = _user(conn, actor_id)
    allowed = frozenset(roles)
    if actor.role not in allowed:
        wanted = "或".join(ROLE_LABELS[r] for r in Role if r in allowed)
        raise AccessDenied(f"{ROLE_LABELS[actor.role]}「{actor.name}」无权执行此操作：仅{wanted}可以操作")
    return actor


def _who(user: UserRow) -> str:
    return f"{ROLE_LABELS[user.role]}「{user.name}」"


class AuthService:
    def __init__(self, *, engine: Engine, clock: Clock, params: ScryptParams = DEFAULT_PARAMS) -> None:
        self._engine = engine
        self._clock = clock
        self._params = params

    @staticmethod
    def needs_password(user: UserRow) -> bool:
        return user.role in PASSWORD_ROLES

    def user_by_name(self, *, name: str) -> UserRow:
        with self._engine.connect() as conn:
            user_id = conn.execute(
                select(users.c.id).where(users.c.name == name.strip(), users.c.deleted.is_(False))
            ).scalar()
            if user_id is None:
                raise NotFound(f"没有名为「{name}」的用户")
            return _user(conn, user_id)

    def has_password(self, *, user_id: str) -> bool:
        with self._engine.connect() as conn:
            return (
                conn.execute(select(user_secrets.c.user_id).where(user_secrets.c.user_id == user_id)).first()
                is not None
            )

    def authenticate(self, *, user_id: str, password: str) -> UserRow:
        """The user when `password` is theirs; every refusal is audited and counts towards the delay."""
        now = self._clock.now()
        failure: ServiceError | None = None
        with self._engine.begin() as conn:
            user = _user(conn, user_id)
            secret = (
                conn.execute(select(user_secrets).where(user_secrets.c.user_id == user_id)).mappings().first()
            )
            if secret is None:
                raise PasswordNotSet(f"{_who(user)}还没有设置密码")
            blocked = secret["blocked_until"]
            if blocked is not None and blocked > now:
                wait = blocked - now
                append_audit(
                    conn,
                    at=now,
                    actor_id=user.id,
                    action="auth_throttled",
                    target=f"user:{user.id}",
                    details={"retry_after_s": int(wait.total_seconds())},
                )
                failure = TooManyAttempts(f"密码错误次数过多，请 {_seconds(wait)}后再试", wait)
            elif check_password(password, secret["password_hash"]):
                if secret["failed_count"]:
                    conn.execute(
                        update(user_secrets)
                        .where(user_secrets.c.user_id == user_id)
                        .values(failed_count=0, blocked_until=None)
                    )
                append_audit(conn, at=now, actor_id=user.id, action="auth_ok", target=f"user:{user.id}")
                return user
            else:
                failures = secret["failed_count"] + 1
                delay = throttle_delay(failures)
                conn.execute(
                    update(user_secrets)
                    .where(user_secrets.c.user_id == user_id)
                    .values(failed_count=failures, blocked_until=now + delay if delay else None)
                )
                append_audit(
                    conn,
                    at=now,
                    actor_id=user.id,
                    action="auth_failed",
                    target=f"user:{user.id}",
                    details={"failures": failures},
                )
                hint = f"；请 {_seconds(delay)}后再试" if delay else ""
                failure = WrongPassword(f"{_who(user)}的密码不正确{hint}")
        raise failure  # after the commit: the failed attempt stays recorded

    def set_password(
        self, *, actor_id: str, user_id: str, new_password: str, old_password: str | None = None
    ) -> Changes:
        """Set or change a password. The user themself needs the old one (if any); an admin needs none
        for someone else (the admin proved who they are when switching to their profile)."""
        if len(new_password) < MIN_PASSWORD_LENGTH:
            raise ServiceError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
        if new_password != new_password.strip():
            raise ServiceError("密码首尾不能有空格")
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = _user(conn, actor_id)
            target = _user(conn, user_id)
            if target.role not in PASSWORD_ROLES:
                raise ServiceError(f"{_who(target)}不需要密码：只有主管和管理员设置密码")
            stored = conn.execute(
                select(user_secrets.c.password_hash).where(user_secrets.c.user_id == user_id)
            ).scalar()
            if actor.id == target.id:
                kind = "password_changed" if stored else "password_first_set"
            elif actor.role is Role.ADMIN:
                kind = "password_reset"
            else:
                raise AccessDenied(f"{_who(actor)}无权修改{_who(target)}的密码：仅本人或管理员可以修改")
        if kind == "password_changed":
            self.authenticate(user_id=user_id, password=old_password or "")  # audited, throttled
        encoded = hash_password(new_password, params=self._params)
        with self._engine.begin() as conn:
            conn.execute(delete(user_secrets).where(user_secrets.c.user_id == user_id))
            conn.execute(
                insert(user_secrets).values(
                    user_id=user_id, password_hash=encoded, updated_at=now, failed_count=0, blocked_until=None
                )
            )
            append_audit(
                conn,
                at=now,
                actor_id=actor.id,
                action=kind,
                target=f"user:{user_id}",
                details={"user": target.name},
            )
        return Changes(users=True)


def _seconds(delay: timedelta) -> str:
    total = max(1, int(-(-delay.total_seconds() // 1)))
    return f"{total // 60} 分 {total % 60} 秒" if total >= 60 else f"{total} 秒"
