"""Export on one machine, import on another, through the real database: same rows on both."""

from __future__ import annotations

import sqlite3
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sync.codec import decode_bundle
from dyy_desk.core.sync.errors import BundleError
from dyy_desk.core.sync.manifest import validate_bundle
from dyy_desk.core.types import TicketStatus
from dyy_desk.infra.bundle_crypto import decrypt_bundle, encrypt_bundle, parse_team_key
from dyy_desk.services.sync_registry import SCHEMA_VERSION, table_names
from dyy_desk.services.sync_stream import adler32_combine
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import Machine, contents, digest, memory_keyring, open_machine

__all__ = ["memory_keyring"]


@pytest.fixture
def pair(tmp_path: Path, memory_keyring: object) -> tuple[Machine, Machine, str]:
    clock_a, clock_b = FakeClock(START), FakeClock(START)
    a = open_machine(tmp_path, "a", clock_a, seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", clock_b, seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    yield a, b, key_text
    a.close()
    b.close()


def _first_open_ticket(m: Machine) -> str:
    with sqlite3.connect(m.db_path) as con:
        return str(con.execute("SELECT id FROM ticket WHERE status='new' ORDER BY id LIMIT 1").fetchone()[0])


def test_adler_combine_matches_zlib() -> None:
    for a, b in [(b"", b"x"), (b"hello ", b"world"), (bytes(range(256)) * 300, b"\xff" * 70000)]:
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


def test_roundtrip_same_rows_and_core_codec_reads_the_file(
    pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    a, b, key_text = pair
    result = a.sync.export(out=tmp_path / "a1.dyyb")
    assert result.sequence == 1 and result.counts["ticket"] == 200
    # the streamed file is exactly the documented format: the in-memory core codec accepts it
    bundle = decode_bundle(decrypt_bundle((tmp_path / "a1.dyyb").read_bytes(), parse_team_key(key_text)))
    validate_bundle(
        bundle,
        team_id=b.sync.info().team_id or "",
        max_schema_version=SCHEMA_VERSION,
        known_tables=table_names(),
    )
    preview = b.sync.preview(path=tmp_path / "a1.dyyb")
    assert not preview.applied and {t.table: t.new for t in preview.tables}["ticket"] == 200
    assert contents(b)["ticket"] == []  # preview writes nothing
    called: list[bool] = []
    report = b.sync.apply(path=tmp_path / "a1.dyyb", on_tickets_changed=lambda: called.append(True))
    assert report.applied and report.changes.tickets and called == [True]
    assert contents(a) == contents(b)
    before = digest(b.db_path)
    again = b.sync.apply(path=tmp_path / "a1.dyyb")
    assert again.is_noop and not again.changes.tickets
    assert contents(a) == contents(b)
    del before


def test_edits_on_both_sides_converge(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.sync.apply(path=tmp_path / "a1.dyyb")
    ticket = _first_open_ticket(a)
    a.clock.advance(minutes=5)
    a.workspace.tickets.change_status(ticket_id=ticket, status=TicketStatus.IN_PROGRESS, actor_id=None)
    b.clock.advance(minutes=7)
    b.workspace.tickets.add_note(ticket_id=ticket, text="买家已补充照片", actor_id=None)
    b.workspace.tickets.change_status(ticket_id=ticket, status=TicketStatus.WAITING_BUYER, actor_id=None)
    a.sync.export(out=tmp_path / "a2.dyyb")
    b.sync.export(out=tmp_path / "b1.dyyb")
    rb = b.sync.apply(path=tmp_path / "a2.dyyb")
    ra = a.sync.apply(path=tmp_path / "b1.dyyb")
    assert contents(a) == contents(b)
    with sqlite3.connect(a.db_path) as con:
        status = con.execute("SELECT status FROM ticket WHERE id=?", (ticket,)).fetchone()[0]
        notes = con.execute(
            "SELECT count(*) FROM ticket_event WHERE ticket_id=? AND text='买家已补充照片'", (ticket,)
        ).fetchone()[0]
    assert status == "waiting_buyer"  # the later edit (B, 7 min) wins; both timelines are kept
    assert notes == 1
    assert ra.conflict_count + rb.conflict_count >= 1


def test_client_scope_holds_nothing_of_other_clients(
    pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    a, b, key_text = pair
    with sqlite3.connect(a.db_path) as con:
        client_id, name = con.execute("SELECT id, name FROM client ORDER BY name LIMIT 1").fetchone()
        other_tickets = con.execute(
            "SELECT count(*) FROM ticket WHERE client_id != ?", (client_id,)
        ).fetchone()[0]
    assert other_tickets > 0
    a.sync.export(out=tmp_path / "c.dyyb", client_name=name)
    bundle = decode_bundle(decrypt_bundle((tmp_path / "c.dyyb").read_bytes(), parse_team_key(key_text)))
    assert bundle.manifest.sequence == 0 and bundle.manifest.scope.client_id == client_id
    tickets = {r.id for r in bundle.records if r.table == "ticket"}
    for r in bundle.records:
        if r.table in ("shop", "customer", "ticket"):
            assert r.values["client_id"] == client_id
        elif r.table == "client":
            assert r.id == client_id
        elif r.table == "ticket_event":
            assert r.values["ticket_id"] in tickets
    b.sync.apply(path=tmp_path / "c.dyyb")
    with sqlite3.connect(b.db_path) as con:
        assert (
            con.execute("SELECT count(*) FROM ticket WHERE client_id != ?", (client_id,)).fetchone()[0] == 0
        )
        assert con.execute("SELECT count(*) FROM ticket").fetchone()[0] == len(tickets) > 0


def test_masked_export_never_overwrites_real_phones(
    pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.sync.apply(path=tmp_path / "a1.dyyb")
    with sqlite3.connect(a.db_path) as con:
        customer, phone = con.execute(
            "SELECT id, phone FROM customer WHERE phone IS NOT NULL LIMIT 1"
        ).fetchone()
        con.execute("UPDATE customer SET nick = nick || '改' WHERE id = ?", (customer,))
    a.clock.advance(hours=1)
    a.sync.export(out=tmp_path / "masked.dyyb", mask_personal_data=True)
    report = b.sync.apply(path=tmp_path / "masked.dyyb")
    assert report.masked
    with sqlite3.connect(b.db_path) as con:
        real, nick = con.execute("SELECT phone, nick FROM customer WHERE id = ?", (customer,)).fetchone()
    assert real == phone and "****" not in real and nick.endswith("改")
    # a machine that only ever saw the masked copy shows the mask, and a later real copy replaces it
    c = open_machine(tmp_path, "c", FakeClock(START), seed=Seed.EMPTY)
    try:
        c.sync.join_team(key_text=pair[2], name="张伟")
        c.sync.apply(path=tmp_path / "a1.dyyb")
        c_client = a.sync  # noqa: F841 - keep names short below
        with sqlite3.connect(c.db_path) as con:
            assert con.execute("SELECT phone FROM customer WHERE id = ?", (customer,)).fetchone()[0] == phone
    finally:
        c.close()


def test_gap_is_named(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    for n in (1, 2, 3):
        a.clock.advance(minutes=1)
        a.sync.export(out=tmp_path / f"a{n}.dyyb")
    b.sync.apply(path=tmp_path / "a1.dyyb")
    report = b.sync.apply(path=tmp_path / "a3.dyyb")
    assert report.gaps == ("缺少来自 李娜 的电脑的第 2 号数据包",)
    assert b.sync.apply(path=tmp_path / "a2.dyyb").gaps == ()


def test_cancel_leaves_nothing(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.close()
    before = digest(b.db_path)
    b2 = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    with pytest.raises(Exception, match="已取消"):
        b2.sync.apply(path=tmp_path / "a1.dyyb", cancel=lambda: True)
    assert contents(b2)["ticket"] == []
    b2.close()
    assert digest(b.db_path) == before
    pair_b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    pair_b.close()


def _bad_inputs(tmp_path: Path, good: bytes, key: bytes, other_key: bytes) -> dict[str, bytes]:
    body = decrypt_bundle(good, key)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    bomb_payload = b"DYYP\x01" + zlib.compress(b'{"a":1}\n' + b" " * (40 * 1024 * 1024), 9)
    newer = encrypt_bundle(b"DYYP\x02" + body[5:], key)
    return {
        "truncated": good[: len(good) - 100],
        "flipped": bytes(flipped),
        "wrong key": encrypt_bundle(body, other_key),
        "not a bundle": "工单导出.xlsx 其实是文本".encode(),
        "empty": b"",
        "bomb": encrypt_bundle(bomb_payload, key),
        "newer format": newer,
    }


def test_bad_inputs_are_refused_and_db_untouched(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, key_text = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    key = parse_team_key(key_text)
    cases = _bad_inputs(tmp_path, (tmp_path / "a1.dyyb").read_bytes(), key, bytes(32))
    b.close()
    before = digest(b.db_path)
    b2 = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    try:
        for name, data in cases.items():
            path = tmp_path / f"bad-{name}.dyyb"
            path.write_bytes(data)
            with pytest.raises(BundleError) as info:
                b2.sync.apply(path=path)
            assert info.value.message, name
    finally:
        b2.close()
    assert digest(b.db_path) == before


def _rebuilt(good: bytes, key: bytes, *, records: object = None, **manifest_changes: object) -> bytes:
    from dataclasses import replace

    from dyy_desk.core.sync.codec import encode_bundle
    from dyy_desk.core.sync.manifest import build_bundle

    bundle = decode_bundle(decrypt_bundle(good, key))
    m = replace(bundle.manifest, **manifest_changes)  # type: ignore[arg-type]
    rebuilt = build_bundle(
        bundle.records if records is None else records,  # type: ignore[arg-type]
        schema_version=m.schema_version,
        team_id=m.team_id,
        origin=m.origin,
        origin_name=m.origin_name,
        sequence=m.sequence,
        created_at=m.created_at,
        scope=m.scope,
    )
    return encrypt_bundle(encode_bundle(rebuilt), key)


def test_valid_files_with_bad_content_are_refused(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    from dataclasses import replace

    from dyy_desk.core.sync.records import FieldState

    a, b, key_text = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    key = parse_team_key(key_text)
    good = (tmp_path / "a1.dyyb").read_bytes()
    records = decode_bundle(decrypt_bundle(good, key)).records
    tickets = [r for r in records if r.table == "ticket"]

    def with_field(name: str, value: object) -> list[object]:
        t = tickets[0]
        state = replace(t.fields[name], value=value)
        return [replace(r, fields={**r.fields, name: state}) if r is t else r for r in records]

    cases = {
        "another team": (_rebuilt(good, key, team_id="0000000000000000"), "另一个团队"),
        "newer schema": (_rebuilt(good, key, schema_version=SCHEMA_VERSION + 1), "更新版本"),
        "bad enum": (_rebuilt(good, key, records=with_field("status", "bogus")), "无效"),
        "missing required": (_rebuilt(good, key, records=with_field("subject", None)), "不能为空"),
        "oversized record": (_rebuilt(good, key, records=with_field("subject", "长" * 600_000)), "上限"),
        "missing parents": (_rebuilt(good, key, records=tickets), "都没有"),
    }
    del FieldState
    b.close()
    before = digest(b.db_path)
    b2 = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    try:
        for name, (data, words) in cases.items():
            path = tmp_path / f"bad-{name}.dyyb"
            path.write_bytes(data)
            with pytest.raises(BundleError, match=words):
                b2.sync.apply(path=path)
    finally:
        b2.close()
    assert digest(b.db_path) == before


def test_clock_moves_past_imported_versions(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    a.clock.advance(timedelta(hours=3))
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.sync.apply(path=tmp_path / "a1.dyyb")
    with sqlite3.connect(b.db_path) as con:
        hlc = con.execute("SELECT value FROM sync_state WHERE key='hlc'").fetchone()[0]
        top = con.execute("SELECT max(version) FROM ticket").fetchone()[0]
    assert hlc > top
