from __future__ import annotations

import zlib

import pytest

from dyy_desk.core.sync.codec import MAGIC, decode_bundle, encode_bundle
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.manifest import Bundle, BundleLimits, Scope, ScopeKind, build_bundle, validate_bundle
from dyy_desk.core.sync.records import RecordKind, delete_record, mask_fields, mask_phone, new_record
from tests.core.sync.factory import T0, Machine, rid


@pytest.fixture
def bundle() -> Bundle:
    m = Machine("pc-a")
    ticket = new_record("ticket", rid(1), {"status": "new", "phone": "13812345678", "n": 1.5}, m.tick())
    return build_bundle(
        [
            mask_fields(ticket, ["phone"], mask_phone),
            delete_record(new_record("ticket", rid(2), {"status": "x"}, m.tick()), m.tick()),
            new_record(
                "ticket_event", rid(3), {"text": "买家说：尽快"}, m.tick(), kind=RecordKind.APPEND_ONLY
            ),
        ],
        schema_version=1,
        team_id="t",
        origin="pc-a",
        origin_name="张三",
        sequence=4,
        created_at=T0,
        scope=Scope(ScopeKind.ALL_CHANGES, masked=True),
    )


def refusal(data: bytes, **kwargs: BundleLimits) -> BundleError:
    with pytest.raises(BundleError) as info:
        decode_bundle(data, **kwargs)
    return info.value


def test_round_trip_is_exact_and_canonical(bundle: Bundle) -> None:
    data = encode_bundle(bundle)
    assert data.startswith(MAGIC + b"\x01")
    decoded = decode_bundle(data)
    assert decoded == bundle
    validate_bundle(decoded, team_id="t", max_schema_version=1)
    assert encode_bundle(decoded) == data


def test_every_truncation_is_refused(bundle: Bundle) -> None:
    data = encode_bundle(bundle)
    for cut in range(len(data)):
        assert refusal(data[:cut]).reason in {Refusal.DAMAGED, Refusal.MALFORMED}
    assert "不完整" in refusal(data[:-3]).message


def test_not_a_bundle_and_newer_format(bundle: Bundle) -> None:
    for junk in [b"PK\x03\x04 spreadsheet", b"%PDF-1.7", "工单".encode(), b"DYYB\x01" + b"\0" * 40]:
        error = refusal(junk)
        assert error.reason is Refusal.NOT_A_BUNDLE and error.message == "这不是 DYY Desk 数据包。"
    newer = bytearray(encode_bundle(bundle))
    newer[4] = 2
    assert refusal(bytes(newer)).reason is Refusal.NEWER_FORMAT


def test_garbage_after_valid_header_and_bad_lines(bundle: Bundle) -> None:
    assert refusal(MAGIC + b"\x01" + b"not zlib at all").reason is Refusal.DAMAGED
    assert refusal(encode_bundle(bundle) + b"tail").reason is Refusal.DAMAGED
    bad_json = MAGIC + b"\x01" + zlib.compress(b'{"format": 1\n')
    assert refusal(bad_json).reason is Refusal.MALFORMED
    good_manifest = zlib.decompress(encode_bundle(bundle)[5:]).split(b"\n")[0]
    bad_record = MAGIC + b"\x01" + zlib.compress(good_manifest + b'\n{"table": "ticket"}\n')
    error = refusal(bad_record)
    assert error.reason is Refusal.MALFORMED and "第 1 条记录" in error.message
    deep = MAGIC + b"\x01" + zlib.compress(b"[" * 100_000 + b"\n")
    assert refusal(deep).reason is Refusal.MALFORMED


def test_decompression_bomb_is_stopped_early() -> None:
    bomb = MAGIC + b"\x01" + zlib.compress(b"\n" * (64 * 1024 * 1024), 9)  # 64 MiB from ~64 KiB
    assert len(bomb) < 100_000
    limits = BundleLimits(max_uncompressed_bytes=4 * 1024 * 1024)
    error = refusal(bomb, limits=limits)
    assert error.reason is Refusal.TOO_LARGE
    ratio_only = BundleLimits(max_ratio=100, ratio_floor_bytes=1024 * 1024)
    assert refusal(bomb, limits=ratio_only).reason is Refusal.TOO_LARGE
