"""Table handles and row conversions shared by the library service, search, import and export."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlmodel import SQLModel

from dyy_desk.core.ids import new_id
from dyy_desk.core.library_rows import FaqRow, ScriptRow
from dyy_desk.core.search import SearchDoc
from dyy_desk.core.types import Role, UserRow
from dyy_desk.db import models_library
from dyy_desk.db.repos.tables import clients, users
from dyy_desk.services.errors import NotFound
from dyy_desk.services.library_views import FaqEntry, ScriptEntry


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


faq_t = _table(models_library.LibraryFaq)
script_t = _table(models_library.LibraryScript)
cache_t = _table(models_library.LibrarySearchCache)
usage_t = _table(models_library.LibraryUsage)

EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def dumps(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def loads(text: str) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(text or "[]"))


def new_external_id(prefix: str) -> str:
    return f"{prefix}-{new_id().replace('-', '')[-10:]}"


def load_user(conn: Connection, user_id: str) -> UserRow:
    row = conn.execute(
        select(users.c.id, users.c.name, users.c.role, users.c.deleted).where(users.c.id == user_id)
    )
    found = row.first()
    if found is None or found.deleted:
        raise NotFound("当前用户不存在或已被删除，请重新选择用户")
    return UserRow(id=found.id, name=found.name, role=Role(found.role))


def require_editor(conn: Connection, user_id: str) -> UserRow:
    user = load_user(conn, user_id)
    if user.role not in EDITORS:
        raise PermissionError("只有主管可以修改知识库和话术；客服可以搜索和复制")
    return user


def client_names(conn: Connection) -> dict[str, str]:
    return {
        r.id: r.name
        for r in conn.execute(select(clients.c.id, clients.c.name).where(clients.c.deleted.is_(False)))
    }


def user_names(conn: Connection) -> dict[str, str]:
    return {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}


def faq_doc(row: Mapping[Any, Any]) -> SearchDoc:
    return SearchDoc(
        doc_id=row["id"],
        kind="faq",
        title=row["question"],
        alternates=loads(row["similar_questions"]),
        body=row["answer"],
        tags=loads(row["tags"]),
        client_id=row["client_id"],
        platforms=loads(row["platforms"]),
    )


def script_doc(row: Mapping[Any, Any]) -> SearchDoc:
    return SearchDoc(
        doc_id=row["id"],
        kind="script",
        title=row["title"],
        body=row["body"],
        tags=(row["group_name"],) if row["group_name"] else (),
        client_id=row["client_id"],
        shortcut=row["shortcut"],
        platforms=loads(row["platforms"]),
    )


def faq_entry(row: Mapping[Any, Any], clients_by_id: Mapping[str, str], names: Mapping[str, str]) -> FaqEntry:
    return FaqEntry(
        id=row["id"],
        external_id=row["external_id"],
        question=row["question"],
        answer=row["answer"],
        similar_questions=loads(row["similar_questions"]),
        tags=loads(row["tags"]),
        client_id=row["client_id"],
        client_name=clients_by_id.get(row["client_id"]) if row["client_id"] else None,
        platforms=loads(row["platforms"]),
        updated_at=row["updated_at"],
        updated_by=names.get(row["updated_by"]) if row["updated_by"] else None,
    )


def script_entry(
    row: Mapping[Any, Any], clients_by_id: Mapping[str, str], names: Mapping[str, str]
) -> ScriptEntry:
    return ScriptEntry(
        id=row["id"],
        external_id=row["external_id"],
        title=row["title"],
        body=row["body"],
        group=row["group_name"],
        shortcut=row["shortcut"],
        client_id=row["client_id"],
        client_name=clients_by_id.get(row["client_id"]) if row["client_id"] else None,
        platforms=loads(row["platforms"]),
        updated_at=row["updated_at"],
        updated_by=names.get(row["updated_by"]) if row["updated_by"] else None,
    )


def faq_content(row: FaqRow, client_id: str | None) -> dict[str, Any]:
    """The columns an import or an edit sets; equal dicts mean the entry is unchanged."""
    return {
        "question": row.question,
        "answer": row.answer,
        "similar_questions": dumps(row.similar_questions),
        "tags": dumps(row.tags),
        "client_id": client_id,
        "platforms": dumps(row.platforms),
        "deleted": False,
    }


def script_content(row: ScriptRow, client_id: str | None) -> dict[str, Any]:
    return {
        "title": row.title,
        "body": row.body,
        "group_name": row.group,
        "shortcut": row.shortcut,
        "client_id": client_id,
        "platforms": dumps(row.platforms),
        "deleted": False,
    }


def faq_row(row: Mapping[Any, Any], client_name: str | None) -> FaqRow:
    return FaqRow(
        0,
        row["external_id"],
        row["question"],
        row["answer"],
        loads(row["similar_questions"]),
        client_name,
        loads(row["tags"]),
        loads(row["platforms"]),
    )


def script_row(row: Mapping[Any, Any], client_name: str | None) -> ScriptRow:
    return ScriptRow(
        0,
        row["external_id"],
        row["title"],
        row["body"],
        row["group_name"],
        row["shortcut"],
        client_name,
        loads(row["platforms"]),
    )
