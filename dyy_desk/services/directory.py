"""Who and where: users, clients and shops, for pickers and the current-user switch.

A new user is written to the audit log with who created them (nobody yet on a fresh workspace).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.ids import new_id
from dyy_desk.core.types import ClientRow, Platform, Role, ShopRow, UserRow
from dyy_desk.db.repos.tables import clients, shops, users
from dyy_desk.services.audit import append_audit
from dyy_desk.services.auth_service import require_role
from dyy_desk.services.errors import ServiceError


class DirectoryService:
    def __init__(self, *, engine: Engine, clock: Clock, origin: str) -> None:
        self._engine = engine
        self._clock = clock
        self._origin = origin

    def users(self) -> list[UserRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(users.c.id, users.c.name, users.c.role).where(users.c.deleted.is_(False))
            )
            return sorted(
                (UserRow(id=r.id, name=r.name, role=Role(r.role)) for r in rows),
                key=lambda u: (list(Role).index(u.role), u.name),
            )

    def clients(self) -> list[ClientRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(clients.c.id, clients.c.name)
                .where(clients.c.deleted.is_(False))
                .order_by(clients.c.name)
            )
            return [ClientRow(id=r.id, name=r.name) for r in rows]

    def shops(self, *, client_id: str | None = None) -> list[ShopRow]:
        stmt = select(shops.c.id, shops.c.client_id, shops.c.name, shops.c.platform).where(
            shops.c.deleted.is_(False)
        )
        if client_id:
            stmt = stmt.where(shops.c.client_id == client_id)
        with self._engine.connect() as conn:
            return [
                ShopRow(id=r.id, client_id=r.client_id, name=r.name, platform=Platform(r.platform))
                for r in conn.execute(stmt.order_by(shops.c.name))
            ]

    def create_user(self, *, name: str, role: Role, actor_id: str | None = None) -> tuple[UserRow, Changes]:
        """`actor_id`, when given, must be a live user; it is who the audit entry names."""
        name = name.strip()
        if not name or len(name) > 64:
            raise ServiceError("姓名不能为空，最多 64 个字")
        with self._engine.begin() as conn:
            if actor_id is not None:
                require_role(conn, actor_id, Role)
            user = insert_user(
                conn, name=name, role=role, now=self._clock.now(), origin=self._origin, actor_id=actor_id
            )
        return user, Changes(users=True)


def insert_user(
    conn: Connection, *, name: str, role: Role, now: datetime, origin: str, actor_id: str | None
) -> UserRow:
    """One new user and its audit entry, inside the caller's transaction; a taken name is refused
    (deleted users keep their names, so history never points at two people)."""
    if conn.execute(select(users.c.id).where(users.c.name == name)).first():
        raise ServiceError(f"已有名为「{name}」的用户（包括已删除的用户），请换一个名字")
    user = UserRow(id=new_id(), name=name, role=role)
    conn.execute(
        insert(users).values(
            id=user.id,
            name=name,
            role=role.value,
            created_at=now,
            origin=origin,
            version="",
            deleted=False,
        )
    )
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="user_created",
        target=f"user:{user.id}",
        details={"name": name, "role": role.value},
    )
    return user
