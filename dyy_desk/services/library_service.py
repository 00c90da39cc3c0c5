"""Library use cases (知识库 / 话术): browse, search, copy with placeholders filled, edit, import, export.

One public method = one transaction. Every agent may read, search, copy and export; only supervisors
and admins (read from the `user` table on each call) may change entries or import — an agent gets a
PermissionError. Edits, imports and exports are written to the audit log in the same transaction
(library_audit). After a write the in-memory index (`self.index`) is brought up to date for exactly the
entries written. Errors for the user: ServiceError / NotFound, PermissionError, LibraryFileError (a file
that cannot be read at all; `.issues` lists each problem).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, insert, or_, select, update

from dyy_desk.core.changes import NO_CHANGES, Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.ids import new_id
from dyy_desk.core.library_rows import (
    FAQ_COLUMNS,
    SCRIPT_COLUMNS,
    FaqRow,
    LibraryFileError,
    LibraryKind,
    ParsedLibrary,
    RawRow,
    RawTable,
    ScriptRow,
    decode_bytes,
    parse_csv,
    validate_table,
)
from dyy_desk.core.placeholders import fill_placeholders, ticket_values
from dyy_desk.db.repos.tables import clients, customers, shops, tickets
from dyy_desk.infra.paths import resource_path
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.library_audit import audit_entry, audit_export, audit_import
from dyy_desk.services.library_export import library_rows, write_library_file
from dyy_desk.services.library_import import ImportCancelled, apply_plan, plan_import, read_library_file
from dyy_desk.services.library_search import LibrarySearch
from dyy_desk.services.library_store import (
    client_names,
    faq_content,
    faq_entry,
    faq_t,
    load_user,
    new_external_id,
    require_editor,
    script_content,
    script_entry,
    script_t,
    usage_t,
    user_names,
)
from dyy_desk.services.library_views import (
    Cancelled,
    CopiedText,
    FaqDraft,
    FaqEntry,
    ImportPreview,
    ImportResult,
    LibraryHit,
    Progress,
    RowStatus,
    ScriptDraft,
    ScriptEntry,
)

LIBRARY_CHANGED = Changes(library=True)
_LABELS = {"id": "编号", "question": "问题", "answer": "答案", "title": "标题", "body": "内容",
           "group": "分组", "shortcut": "快捷编码", "client": "客户", "platforms": "平台"}  # fmt: skip
_Entry = TypeVar("_Entry", FaqEntry, ScriptEntry)

__all__ = ["ImportCancelled", "LibraryService", "seed_demo_library"]


class LibraryService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        origin: str,
        cache_dir: Path | None = None,
        index: LibrarySearch | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._origin = origin
        self.index = index or LibrarySearch(engine=engine, cache_dir=cache_dir)

    # reads ------------------------------------------------------------------------------------------

    def faq_entries(self, *, client_id: str | None = None) -> list[FaqEntry]:
        """All live entries; with `client_id`, generic entries plus that client's."""
        with self._engine.connect() as conn:
            names, users_ = client_names(conn), user_names(conn)
            rows = conn.execute(_scoped(faq_t, client_id).order_by(faq_t.c.external_id)).mappings()
            return [faq_entry(r, names, users_) for r in rows]

    def script_entries(self, *, client_id: str | None = None) -> list[ScriptEntry]:
        with self._engine.connect() as conn:
            names, users_ = client_names(conn), user_names(conn)
            stmt = _scoped(script_t, client_id).order_by(script_t.c.group_name, script_t.c.external_id)
            return [script_entry(r, names, users_) for r in conn.execute(stmt).mappings()]

    def search(
        self, query: str, *, client_id: str | None = None, user_id: str | None = None, limit: int = 10
    ) -> list[LibraryHit]:
        return self.index.search(query, client_id=client_id, user_id=user_id, limit=limit)

    def copy_entry(
        self,
        *,
        user_id: str,
        doc_id: str,
        ticket_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> tuple[CopiedText, Changes]:
        """The answer / script body with placeholders filled from the ticket (and `values`, which win),
        and one more use counted for this user. Unfilled placeholders stay visible in the text."""
        with self._engine.begin() as conn:
            user = load_user(conn, user_id)
            text = _entry_text(conn, doc_id)
            mapping: dict[str, str] = _ticket_mapping(conn, ticket_id) if ticket_id else {}
            mapping |= ticket_values(agent_name=user.name) | dict(values or {})
            _count_use(conn, user_id=user_id, doc_id=doc_id, now=self._clock.now())
        self.index.note_use(user_id=user_id, doc_id=doc_id)
        filled = fill_placeholders(text, mapping)
        return CopiedText(doc_id, filled.text, filled.filled, filled.unfilled), NO_CHANGES

    # edits ------------------------------------------------------------------------------------------

    def create_faq(self, *, user_id: str, draft: FaqDraft) -> tuple[FaqEntry, Changes]:
        return self._save(user_id, None, draft, faq_entry), LIBRARY_CHANGED

    def update_faq(self, *, user_id: str, entry_id: str, draft: FaqDraft) -> tuple[FaqEntry, Changes]:
        return self._save(user_id, entry_id, draft, faq_entry), LIBRARY_CHANGED

    def create_script(self, *, user_id: str, draft: ScriptDraft) -> tuple[ScriptEntry, Changes]:
        return self._save(user_id, None, draft, script_entry), LIBRARY_CHANGED

    def update_script(
        self, *, user_id: str, entry_id: str, draft: ScriptDraft
    ) -> tuple[ScriptEntry, Changes]:
        return self._save(user_id, entry_id, draft, script_entry), LIBRARY_CHANGED

    def delete_entry(self, *, user_id: str, entry_id: str) -> Changes:
        """Soft delete (a tombstone that syncs); works for FAQ entries and scripts alike."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            require_editor(conn, user_id)
            stamp = {"deleted": True, "updated_at": now, "updated_by": user_id}
            for table, kind in ((faq_t, LibraryKind.FAQ), (script_t, LibraryKind.SCRIPTS)):
                live = (table.c.id == entry_id) & table.c.deleted.is_(False)
                if conn.execute(update(table).where(live).values(stamp)).rowcount:
                    row = conn.execute(select(table).where(table.c.id == entry_id)).mappings().one()
                    audit_entry(conn, "library_entry_deleted", kind=kind, row=row, actor_id=user_id, now=now)
                    break
            else:
                raise NotFound("条目不存在或已被删除")
        self.index.refresh([entry_id])
        return LIBRARY_CHANGED

    def _save(
        self,
        user_id: str,
        entry_id: str | None,
        draft: FaqDraft | ScriptDraft,
        convert: Callable[[Mapping[Any, Any], Mapping[str, str], Mapping[str, str]], _Entry],
    ) -> _Entry:
        faq = isinstance(draft, FaqDraft)
        table = faq_t if faq else script_t
        row = _checked_row(draft)
        now = self._clock.now()
        with self._engine.begin() as conn:
            require_editor(conn, user_id)
            if draft.client_id is not None and draft.client_id not in client_names(conn):
                raise NotFound("所选客户不存在或已被删除")
            values = (
                faq_content(row, draft.client_id)
                if isinstance(row, FaqRow)
                else script_content(row, draft.client_id)
            )
            if isinstance(row, ScriptRow) and row.shortcut:
                _check_shortcut(conn, row.shortcut, draft.client_id, entry_id)
            external_id = draft.external_id or (None if entry_id else new_external_id("FAQ" if faq else "S"))
            if external_id is not None:
                clash = conn.execute(
                    select(table.c.id).where(
                        table.c.external_id == external_id, table.c.id != (entry_id or "")
                    )
                ).first()
                if clash:
                    raise ServiceError(f"编号「{external_id}」已被其他条目使用")
                values["external_id"] = external_id
            values |= {"updated_at": now, "updated_by": user_id, "origin": self._origin}
            created = entry_id is None
            if entry_id is None:
                entry_id = new_id()
                conn.execute(
                    insert(table).values(values | {"id": entry_id, "created_at": now, "version": ""})
                )
            else:
                live = (table.c.id == entry_id) & table.c.deleted.is_(False)
                if not conn.execute(update(table).where(live).values(values)).rowcount:
                    raise NotFound("条目不存在或已被删除")
            stored = conn.execute(select(table).where(table.c.id == entry_id)).mappings().one()
            audit_entry(
                conn,
                "library_entry_created" if created else "library_entry_updated",
                kind=LibraryKind.FAQ if faq else LibraryKind.SCRIPTS,
                row=stored,
                actor_id=user_id,
                now=now,
            )
            saved = convert(stored, client_names(conn), user_names(conn))
        self.index.refresh([entry_id])
        return saved

    # import / export --------------------------------------------------------------------------------

    def preview_import(
        self, *, user_id: str, path: Path, kind: LibraryKind | None = None, sheet: str | None = None
    ) -> ImportPreview:
        """Read and check the file and compare it with the library; writes nothing.
        Raises LibraryFileError when the file cannot be used at all (encoding, header, no rows)."""
        table, notes = read_library_file(path, sheet=sheet)
        parsed = validate_table(table, kind)
        with self._engine.connect() as conn:
            require_editor(conn, user_id)
            plan = plan_import(conn, parsed, source=table.source)
        counts = {status: sum(1 for p in plan.planned if p.status is status) for status in RowStatus}
        return ImportPreview(
            source=table.source,
            kind=parsed.kind,
            rows=parsed.rows,
            planned=tuple(plan.planned),
            issues=tuple(sorted(plan.issues, key=lambda i: i.line)),
            clients_to_create=tuple(plan.clients_to_create),
            notes=notes + parsed.notes,
            counts=counts,
        )

    def apply_import(
        self,
        *,
        user_id: str,
        preview: ImportPreview,
        progress: Progress | None = None,
        cancel: Cancelled | None = None,
    ) -> tuple[ImportResult, Changes]:
        """Write a valid preview in one transaction. Cancelling (or any error) writes nothing and raises
        ImportCancelled; the index update afterwards reports progress but is not cancellable."""
        if not preview.ok:
            raise ServiceError(f"文件有 {len(preview.issues)} 处错误，未导入任何内容")
        parsed = ParsedLibrary(preview.kind, preview.rows, (), ())
        now = self._clock.now()
        with self._engine.begin() as conn:
            require_editor(conn, user_id)
            plan = plan_import(conn, parsed, source=preview.source)
            if plan.issues:
                raise ServiceError(
                    "预览之后知识库已被修改，导入会产生冲突：请重新预览\n" + "\n".join(map(str, plan.issues))
                )
            touched = apply_plan(
                conn,
                plan,
                preview.kind,
                now=now,
                user_id=user_id,
                origin=self._origin,
                progress=progress,
                cancel=cancel,
            )
            count = {status: sum(1 for p in plan.planned if p.status is status) for status in RowStatus}
            audit_import(
                conn,
                kind=preview.kind,
                source=preview.source,
                counts={status.value: n for status, n in count.items()},
                clients_created=len(plan.clients_to_create),
                actor_id=user_id,
                now=now,
            )
        self.index.refresh(touched)
        result = ImportResult(
            preview.kind,
            count[RowStatus.NEW],
            count[RowStatus.UPDATED],
            count[RowStatus.UNCHANGED],
            tuple(plan.clients_to_create),
        )
        changes = Changes(library=True, users=bool(plan.clients_to_create))
        return result, changes

    def export(
        self, *, path: Path, kind: LibraryKind, client_id: str | None = None, user_id: str | None = None
    ) -> int:
        """Write live entries to `path` (.csv as UTF-8 with BOM, or .xlsx); returns how many. The audit
        entry (who, when, which file) commits only once the file is written."""
        with self._engine.begin() as conn:
            if user_id is not None:
                load_user(conn, user_id)
            rows = library_rows(conn, kind=kind, client_id=client_id)
            audit_export(
                conn,
                kind=kind,
                client_id=client_id,
                count=len(rows),
                file_name=path.name,
                actor_id=user_id,
                now=self._clock.now(),
            )
            write_library_file(path, kind, rows)
        return len(rows)


def seed_demo_library(conn: Connection, *, now: datetime, origin: str) -> tuple[int, int]:
    """Import resources/demo/library_faq.csv and library_scripts.csv into a freshly seeded demo workspace
    (inside the caller's transaction; the demo clients must exist). Returns (FAQ entries, scripts)."""
    counts = []
    for name, kind in (("library_faq.csv", LibraryKind.FAQ), ("library_scripts.csv", LibraryKind.SCRIPTS)):
        data = resource_path("demo", name).read_bytes()
        parsed = validate_table(parse_csv(decode_bytes(data, name), name), kind)
        if parsed.issues:
            raise LibraryFileError(parsed.issues)
        plan = plan_import(conn, parsed, source=name)
        if plan.issues:
            raise LibraryFileError(plan.issues)
        counts.append(
            len(
                apply_plan(conn, plan, kind, now=now, user_id=None, origin=origin, progress=None, cancel=None)
            )
        )
    return counts[0], counts[1]


def _scoped(table: Table, client_id: str | None) -> Any:
    stmt = select(table).where(table.c.deleted.is_(False))
    if client_id is not None:
        stmt = stmt.where(or_(table.c.client_id.is_(None), table.c.client_id == client_id))
    return stmt


def _checked_row(draft: FaqDraft | ScriptDraft) -> FaqRow | ScriptRow:
    """Run a draft through the same checks as an imported row, so the editor and the file agree."""
    if isinstance(draft, FaqDraft):
        header = (*FAQ_COLUMNS, "platforms")
        cells = (
            "",
            draft.question,
            draft.answer,
            "\n".join(draft.similar_questions),
            "",
            "|".join(draft.tags),
        )
    else:
        header = (*SCRIPT_COLUMNS, "platforms")
        cells = ("", draft.title, draft.body, draft.group, draft.shortcut or "", "")
    table = RawTable("编辑", 1, header, (RawRow(2, (*cells, "|".join(draft.platforms))),))
    parsed = validate_table(table, LibraryKind.FAQ if isinstance(draft, FaqDraft) else LibraryKind.SCRIPTS)
    if parsed.issues:
        raise ServiceError("；".join(f"{_LABELS.get(i.column, i.column)}{i.reason}" for i in parsed.issues))
    row = parsed.rows[0]
    return replace(row, external_id=draft.external_id)


def _check_shortcut(conn: Connection, shortcut: str, client_id: str | None, entry_id: str | None) -> None:
    same_scope = script_t.c.client_id.is_(None) if client_id is None else script_t.c.client_id == client_id
    holder = conn.execute(
        select(script_t.c.external_id).where(
            script_t.c.shortcut == shortcut,
            same_scope,
            script_t.c.deleted.is_(False),
            script_t.c.id != (entry_id or ""),
        )
    ).first()
    if holder:
        raise ServiceError(f"快捷编码「{shortcut}」已被话术 {holder.external_id} 使用")


def _entry_text(conn: Connection, doc_id: str) -> str:
    for table, column in ((faq_t, faq_t.c.answer), (script_t, script_t.c.body)):
        text = conn.execute(select(column).where(table.c.id == doc_id, table.c.deleted.is_(False))).scalar()
        if text is not None:
            return str(text)
    raise NotFound("条目不存在或已被删除")


def _ticket_mapping(conn: Connection, ticket_id: str) -> dict[str, str]:
    row = conn.execute(
        select(
            tickets.c.order_no,
            tickets.c.product,
            customers.c.nick,
            shops.c.name,
            clients.c.name.label("client"),
        )
        .select_from(tickets)
        .join(shops, shops.c.id == tickets.c.shop_id)
        .join(clients, clients.c.id == tickets.c.client_id)
        .outerjoin(customers, customers.c.id == tickets.c.customer_id)
        .where(tickets.c.id == ticket_id)
    ).first()
    if row is None:
        raise NotFound("工单不存在")
    return ticket_values(
        customer_nick=row.nick,
        order_no=row.order_no,
        product=row.product,
        shop_name=row.name,
        client_name=row.client,
    )


def _count_use(conn: Connection, *, user_id: str, doc_id: str, now: datetime) -> None:
    key = (usage_t.c.user_id == user_id) & (usage_t.c.doc_id == doc_id)
    bumped = conn.execute(
        update(usage_t).where(key).values(count=usage_t.c.count + 1, last_used_at=now)
    ).rowcount
    if not bumped:
        conn.execute(insert(usage_t).values(user_id=user_id, doc_id=doc_id, count=1, last_used_at=now))
