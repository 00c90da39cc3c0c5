"""Library service on a temporary workspace: import preview/apply/cancel, re-import by id, clients
created on import, XLSX quirks, export round trip, client-scoped search, usage, roles, live index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from dyy_desk.core.library_rows import LibraryFileError, LibraryKind
from dyy_desk.core.search import SearchEngine
from dyy_desk.core.types import Role
from dyy_desk.db.repos.tables import clients
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.library_import import ImportCancelled
from dyy_desk.services.library_search import LibrarySearch, default_search_engine
from dyy_desk.services.library_service import LibraryService, seed_demo_library
from dyy_desk.services.library_store import faq_t, script_t, usage_t
from dyy_desk.services.library_views import FaqDraft, RowStatus, ScriptDraft

FAQ = """id,question,answer,similar_questions,client,tags
F1,退款多久能到账,同意后原路退回，一般1-3个工作日到账。,钱什么时候退回来|退款几天到,,退款
F2,怎么开发票,确认收货后在订单详情申请开票。,发票抬头怎么填,,发票
F3,可以指定顺丰吗,默认发中通，补差价可发顺丰。,能不能发顺丰,,物流
NJ1,退款多久能到账,暖居家纺退货验收后48小时内退款。,暖居退款几天到,暖居家纺,退款
QH1,退款多久能到账,青禾食品质量问题24小时内退款，无需寄回。,青禾退款几天到,青禾食品,退款
"""
SCRIPTS = """id,title,body,group,shortcut,client
S1,退货退款到账,亲，{买家昵称}，仓库收到{商品名}后24小时内退款{退款金额}元。,退换货,/thh,
S2,欢迎语,亲，在的，请问有什么可以帮您？,问候,/hy,
"""


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    engine = default_search_engine(tmp_path_factory.mktemp("jieba"))
    engine.warm_up()
    return engine


@pytest.fixture
def setup(
    empty_workspace: Any, shared_engine: SearchEngine
) -> Iterator[tuple[Any, LibraryService, str, str]]:
    ws = empty_workspace
    boss, _ = ws.directory.create_user(name="赵敏", role=Role.SUPERVISOR)
    agent, _ = ws.directory.create_user(name="李娜", role=Role.AGENT)
    index = LibrarySearch(engine=ws.engine, make_engine=lambda: shared_engine)
    service = LibraryService(engine=ws.engine, clock=ws.clock, origin=ws.machine_id, index=index)
    yield ws, service, boss.id, agent.id
    index.clear()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(ws: Any, table: Any) -> int:
    with ws.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def imported(service: LibraryService, user: str, path: Path, **kw: Any) -> Any:
    preview = service.preview_import(user_id=user, path=path, **kw)
    assert preview.ok, preview.issues
    return service.apply_import(user_id=user, preview=preview)[0]


def test_preview_apply_and_clients_created(setup: Any, tmp_path: Path) -> None:
    ws, service, boss, _ = setup
    preview = service.preview_import(user_id=boss, path=write(tmp_path, "faq.csv", FAQ, "gb18030"))
    assert preview.kind is LibraryKind.FAQ and preview.ok
    assert preview.counts[RowStatus.NEW] == 5
    assert preview.clients_to_create == ("暖居家纺", "青禾食品")
    assert "将新建客户：暖居家纺、青禾食品" in preview.summary()
    assert count(ws, faq_t) == 0 and count(ws, clients) == 0  # preview writes nothing
    result, changes = service.apply_import(user_id=boss, preview=preview)
    assert (result.created, result.clients_created) == (5, ("暖居家纺", "青禾食品")) and changes.library
    assert {e.client_name for e in service.faq_entries()} == {None, "暖居家纺", "青禾食品"}


def test_cancel_leaves_nothing(setup: Any, tmp_path: Path) -> None:
    ws, service, boss, _ = setup
    preview = service.preview_import(user_id=boss, path=write(tmp_path, "faq.csv", FAQ))
    with pytest.raises(ImportCancelled):
        service.apply_import(user_id=boss, preview=preview, cancel=lambda: True)
    assert count(ws, faq_t) == 0 and count(ws, clients) == 0


def test_invalid_file_is_refused_whole(setup: Any, tmp_path: Path) -> None:
    ws, service, boss, _ = setup
    bad = FAQ + "F1,重复,答,,,\nF9,,没有问题,,,\n"
    preview = service.preview_import(user_id=boss, path=write(tmp_path, "faq.csv", bad))
    assert [(i.line, i.column) for i in preview.issues] == [(7, "id"), (8, "question")]
    with pytest.raises(ServiceError, match="2 处错误"):
        service.apply_import(user_id=boss, preview=preview)
    assert count(ws, faq_t) == 0


def test_reimport_updates_by_id(setup: Any, tmp_path: Path) -> None:
    _, service, boss, _ = setup
    imported(service, boss, write(tmp_path, "a.csv", FAQ))
    changed = FAQ.replace("默认发中通，补差价可发顺丰。", "默认发圆通，补差价可发顺丰。")
    preview = service.preview_import(user_id=boss, path=write(tmp_path, "b.csv", changed))
    assert preview.counts == {RowStatus.NEW: 0, RowStatus.UPDATED: 1, RowStatus.UNCHANGED: 4}
    assert [p.external_id for p in preview.planned if p.status is RowStatus.UPDATED] == ["F3"]
    service.apply_import(user_id=boss, preview=preview)
    entries = {e.external_id: e for e in service.faq_entries()}
    assert len(entries) == 5 and entries["F3"].answer.startswith("默认发圆通")


def test_xlsx_extra_sheet_and_merged_cells(setup: Any, tmp_path: Path) -> None:
    _, service, boss, _ = setup
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "话术"
    for row in (["id", "title", "body", "group", "shortcut"], [1, "欢迎语", "亲，在的", "问候", "/hy"]):
        sheet.append(row)
    sheet.append([2, "感谢", "谢谢亲", "结束语", "/xx"])
    book.create_sheet("说明").append(["这一页不导入"])
    path = tmp_path / "s.xlsx"
    book.save(path)
    preview = service.preview_import(user_id=boss, path=path)
    assert preview.ok and preview.kind is LibraryKind.SCRIPTS and "说明" in preview.notes[0]
    assert [p.external_id for p in preview.planned] == ["1", "2"]  # numeric ids kept as written
    sheet.merge_cells("D2:D3")
    book.save(path)
    preview = service.preview_import(user_id=boss, path=path)
    assert [(i.line, i.column) for i in preview.issues] == [(2, "group")]
    assert "D2:D3" in preview.issues[0].reason


def test_export_round_trip_csv_and_xlsx(setup: Any, tmp_path: Path) -> None:
    _, service, boss, _ = setup
    imported(service, boss, write(tmp_path, "faq.csv", FAQ))
    imported(service, boss, write(tmp_path, "s.csv", SCRIPTS))
    for name in ("out.csv", "out.xlsx"):
        assert service.export(path=tmp_path / name, kind=LibraryKind.FAQ) == 5
        again = service.preview_import(user_id=boss, path=tmp_path / name)
        assert again.ok and again.counts[RowStatus.UNCHANGED] == 5, again.summary()
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert service.export(path=tmp_path / "s.xlsx", kind=LibraryKind.SCRIPTS) == 2
    assert service.preview_import(user_id=boss, path=tmp_path / "s.xlsx").counts[RowStatus.UNCHANGED] == 2


def test_search_client_scoping_usage_and_copy(setup: Any, tmp_path: Path) -> None:
    ws, service, boss, agent = setup
    imported(service, boss, write(tmp_path, "faq.csv", FAQ))
    imported(service, boss, write(tmp_path, "s.csv", SCRIPTS))
    service.index.load()
    nj = next(c.id for c in ws.directory.clients() if c.name == "暖居家纺")
    hits = service.search("退款几天能到", client_id=nj, user_id=agent)
    ids = [h.external_id for h in hits]
    assert ids[0] == "NJ1" and "F1" in ids and "QH1" not in ids
    assert hits[0].client_name == "暖居家纺" and not hits[0].weak
    everywhere = [h.external_id for h in service.search("退款几天能到", limit=10)]
    assert {"F1", "NJ1", "QH1"} <= set(everywhere)
    script = service.search("/thh")[0]
    assert script.external_id == "S1" and script.kind == "script"
    copied, _ = service.copy_entry(
        user_id=agent, doc_id=script.doc_id, values={"买家昵称": "小鹿", "退款金额": "59"}
    )
    assert copied.text == "亲，小鹿，仓库收到{商品名}后24小时内退款59元。" and copied.unfilled == ("商品名",)
    with ws.engine.connect() as conn:
        assert conn.execute(select(usage_t.c.count).where(usage_t.c.user_id == agent)).scalar_one() == 1


def test_usage_boost_changes_order_for_that_user_only(setup: Any, tmp_path: Path) -> None:
    _, service, boss, agent = setup
    imported(service, boss, write(tmp_path, "faq.csv", FAQ))
    service.index.load()
    before = [h.external_id for h in service.search("退款多久能到账", user_id=agent)]
    favourite = next(h for h in service.search("退款多久能到账") if h.external_id == "QH1")
    for _ in range(30):
        service.copy_entry(user_id=agent, doc_id=favourite.doc_id)
    after = [h.external_id for h in service.search("退款多久能到账", user_id=agent)]
    assert after.index("QH1") < before.index("QH1")
    assert [h.external_id for h in service.search("退款多久能到账", user_id=boss)] == before


def test_agents_cannot_edit_or_import(setup: Any, tmp_path: Path) -> None:
    ws, service, _, agent = setup
    with pytest.raises(PermissionError, match="只有主管"):
        service.create_faq(user_id=agent, draft=FaqDraft(question="问", answer="答"))
    with pytest.raises(PermissionError):
        service.preview_import(user_id=agent, path=write(tmp_path, "faq.csv", FAQ))
    assert count(ws, faq_t) == 0


def test_edits_update_the_index_incrementally(setup: Any) -> None:
    _, service, boss, _ = setup
    service.index.load()
    entry, changes = service.create_faq(
        user_id=boss, draft=FaqDraft(question="羽绒被钻绒怎么办", answer="拍照联系客服换新", tags=("质量",))
    )
    assert changes.library and entry.external_id.startswith("FAQ-") and entry.updated_by == "赵敏"
    assert service.search("羽绒被钻绒")[0].doc_id == entry.id
    service.update_faq(
        user_id=boss, entry_id=entry.id, draft=FaqDraft(question="发票抬头写错了", answer="可以重开")
    )
    assert service.search("发票抬头错了")[0].doc_id == entry.id
    assert all(h.doc_id != entry.id for h in service.search("羽绒被钻绒"))
    service.delete_entry(user_id=boss, entry_id=entry.id)
    assert all(h.doc_id != entry.id for h in service.search("发票抬头错了"))


def test_script_shortcut_conflict_and_validation(setup: Any) -> None:
    _, service, boss, _ = setup
    service.create_script(user_id=boss, draft=ScriptDraft(title="欢迎", body="亲，在的", shortcut="hy"))
    with pytest.raises(ServiceError, match="/hy"):
        service.create_script(user_id=boss, draft=ScriptDraft(title="欢迎2", body="您好", shortcut="/HY"))
    with pytest.raises(ServiceError, match="标题不能为空"):
        service.create_script(user_id=boss, draft=ScriptDraft(title=" ", body="您好"))


def test_load_uses_cache_on_restart(setup: Any, tmp_path: Path, shared_engine: SearchEngine) -> None:
    ws, service, boss, _ = setup
    imported(service, boss, write(tmp_path, "faq.csv", FAQ))
    first = service.index.load()
    assert (first.entries, first.analysed) == (5, 5)
    service.index.clear()
    again = LibrarySearch(engine=ws.engine, make_engine=lambda: shared_engine)
    second = again.load()
    assert (second.from_cache, second.analysed) == (5, 0)
    assert again.search("退款几天到")[0].external_id == "F1"


def test_file_errors_surface_as_library_file_error(setup: Any, tmp_path: Path) -> None:
    _, service, boss, _ = setup
    with pytest.raises(LibraryFileError, match="缺少必需的列"):
        service.preview_import(
            user_id=boss, path=write(tmp_path, "x.csv", "id,question\n1,问\n"), kind=LibraryKind.FAQ
        )


def test_demo_workspace_has_library_and_reseeding_adds_nothing(demo_workspace: Any) -> None:
    ws = demo_workspace
    faqs, scripts = count(ws, faq_t), count(ws, script_t)
    assert faqs >= 150 and scripts >= 80  # seeded with the demo workspace, mapped to its clients
    with ws.engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(clients)).scalar_one()
        added = seed_demo_library(conn, now=ws.clock.now(), origin=ws.machine_id)
        assert conn.execute(select(func.count()).select_from(clients)).scalar_one() == before
    assert added == (0, 0)
    assert (count(ws, faq_t), count(ws, script_t)) == (faqs, scripts)
