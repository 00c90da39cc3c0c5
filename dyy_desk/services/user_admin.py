"""设置 → 用户与权限: who works here, in which role, and whether their password is set.

The rules live here rather than in which buttons the UI shows, so the command line or a later screen
cannot get round them:
- only supervisors and admins manage users;
- nobody grants a role above their own, nor changes someone whose role is above theirs;
- nobody changes their own role (a supervisor cannot promote themselves, an admin cannot lock
  themselves out by accident);
Together these keep at least one admin (only an admin can change an admin, and not themselves), so
someone can always reset a forgotten password.
Every addition and role change is audited in the same transaction as the write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.db.repos.tables import users
from dyy_desk.services.audit import append_audit
from dyy_desk.services.auth_service import AccessDenied, require_role, user_secrets
from dyy_desk.services.directory import insert_user
from dyy_desk.services.errors import NotFound, ServiceError

RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}
MANAGER_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class UserEntry:
    user: UserRow
    has_password: bool


def assignable_roles(actor: UserRow) -> tuple[Role, ...]:
    """Roles `actor` may give to someone; empty for an agent."""
    if actor.role not in MANAGER_ROLES:
        return ()
    return tuple(r for r in Role if RANK[r] <= RANK[actor.role])


def _who(user: UserRow) -> str:
    return f"{ROLE_LABELS[user.role]}「{user.name}」"


class UserAdminService:
    def __init__(self, *, engine: Engine, clock: Clock, origin: str) -> None:
        self._engine = engine
        self._clock = clock
        self._origin = origin

    def roster(self) -> list[UserEntry]:
        """Everyone not deleted, admins first, with whether a password is set (never the hash)."""
        with self._engine.connect() as conn:
            with_password = set(conn.execute(select(user_secrets.c.user_id)).scalars())
            rows = conn.execute(
                select(users.c.id, users.c.name, users.c.role).where(users.c.deleted.is_(False))
            )
            entries = [
                UserEntry(UserRow(id=r.id, name=r.name, role=Role(r.role)), r.id in with_password)
                for r in rows
            ]
        return sorted(entries, key=lambda e: (-RANK[e.user.role], e.user.name))

    def add_user(self, *, actor_id: str | None, name: str, role: Role) -> tuple[UserRow, Changes]:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ServiceError(f"姓名不能为空，最多 {MAX_NAME_LENGTH} 个字")
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = require_role(conn, actor_id, MANAGER_ROLES)
            _check_grant(actor, role)
            user = insert_user(conn, name=name, role=role, now=now, origin=self._origin, actor_id=actor.id)
        return user, Changes(users=True)

    def change_role(self, *, actor_id: str | None, user_id: str, role: Role) -> tuple[UserRow, Changes]:
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = require_role(conn, actor_id, MANAGER_ROLES)
            target = _live_user(conn, user_id)
            if target.id == actor.id:
                raise AccessDenied("不能修改自己的角色；请让另一位管理员修改")
            if RANK[target.role] > RANK[actor.role]:
                raise AccessDenied(f"{_who(actor)}无权修改{_who(target)}的角色")
            _check_grant(actor, role)
            if role is target.role:
                return target, Changes()
            conn.execute(update(users).where(users.c.id == target.id).values(role=role.value))
            append_audit(
                conn,
                at=now,
                actor_id=actor.id,
                action="user_role_changed",
                target=f"user:{target.id}",
                details={"name": target.name, "from": target.role.value, "to": role.value},
            )
        return UserRow(id=target.id, name=target.name, role=role), Changes(users=True)


def _check_grant(actor: UserRow, role: Role) -> None:
    if RANK[role] > RANK[actor.role]:
        raise AccessDenied(f"{_who(actor)}不能授予{ROLE_LABELS[role]}角色：只能授予不高于自己的角色")


def _live_user(conn: Connection, user_id: str) -> UserRow:
    row = conn.execute(
        select(users.c.id, users.c.name, users.c.role).where(
            users.c.id == user_id, users.c.deleted.is_(False)
        )
    ).first()
    if row is None:
        raise NotFound("该用户不存在或已被删除；请刷新列表")
    return UserRow(id=row.id, name=row.name, role=Role(row.role))
