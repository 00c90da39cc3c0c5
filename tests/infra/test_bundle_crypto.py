from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dyy_desk.core.sync.codec import decode_bundle, encode_bundle
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import HybridClock
from dyy_desk.core.sync.manifest import Scope, ScopeKind, build_bundle, validate_bundle
from dyy_desk.core.sync.records import new_record
from dyy_desk.infra.bundle_crypto import (
    DAMAGED_OR_WRONG_KEY,
    HEADER_SIZE,
    TeamKeyError,
    decrypt_bundle,
    encrypt_bundle,
    format_team_key,
    generate_team_key,
    parse_team_key,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
PLAINTEXT = "DYYP\x01 小数据包 payload".encode()


def refused(data: bytes, key: bytes = KEY) -> BundleError:
    with pytest.raises(BundleError) as info:
        decrypt_bundle(data, key)
    return info.value


def test_round_trip_and_fresh_nonces() -> None:
    sealed = encrypt_bundle(PLAINTEXT, KEY)
    assert sealed[:5] == b"DYYB\x01" and len(sealed) == HEADER_SIZE + len(PLAINTEXT) + 16
    assert decrypt_bundle(sealed, KEY) == PLAINTEXT
    assert encrypt_bundle(PLAINTEXT, KEY) != sealed
    assert PLAINTEXT not in sealed


def test_real_bundle_through_the_whole_pipeline() -> None:
    origin = HybridClock("pc-a")
    record = new_record("ticket", "6f1d2c9e-1b7a-4c53-9c1e-0b8c2f3d4e5a", {"status": "new"}, origin.tick(T0))
    bundle = build_bundle(
        [record],
        schema_version=1,
        team_id="t",
        origin="pc-a",
        origin_name="甲",
        sequence=1,
        created_at=T0,
        scope=Scope(ScopeKind.ALL_CHANGES),
    )
    key = parse_team_key(format_team_key(generate_team_key()))
    opened = decode_bundle(decrypt_bundle(encrypt_bundle(encode_bundle(bundle), key), key))
    validate_bundle(opened, team_id="t", max_schema_version=1)
    assert opened == bundle


def test_layout_matches_the_documented_format() -> None:
    nonce = b"\x01" * 12
    sealed = encrypt_bundle(PLAINTEXT, KEY, nonce=nonce)
    assert sealed[:17] == b"DYYB\x01" + nonce
    assert AESGCM(KEY).decrypt(nonce, sealed[17:], sealed[:17]) == PLAINTEXT  # header is the AAD
    with pytest.raises(InvalidTag):
        AESGCM(KEY).decrypt(nonce, sealed[17:], None)


def test_wrong_key_is_one_clear_error() -> None:
    sealed = encrypt_bundle(PLAINTEXT, KEY)
    error = refused(sealed, generate_team_key())
    assert (
        error.reason is Refusal.DAMAGED
        and error.message == DAMAGED_OR_WRONG_KEY == "数据包已损坏或团队密钥不正确"
    )


def test_every_flipped_byte_and_every_truncation_is_refused() -> None:
    sealed = encrypt_bundle(PLAINTEXT, KEY, nonce=b"\x07" * 12)
    for position in range(len(sealed)):
        for mask in (0x01, 0x80):
            damaged = bytearray(sealed)
            damaged[position] ^= mask
            error = refused(bytes(damaged))
            if position >= 5:
                assert error.message == DAMAGED_OR_WRONG_KEY, position
    for cut in range(len(sealed)):
        assert refused(sealed[:cut]).reason in {Refusal.DAMAGED, Refusal.NOT_A_BUNDLE}
    assert refused(sealed[:-1]).message == DAMAGED_OR_WRONG_KEY


def test_not_a_bundle_newer_format_and_size_cap() -> None:
    assert refused(b"PK\x03\x04zipzipzip" * 5).reason is Refusal.NOT_A_BUNDLE
    sealed = bytearray(encrypt_bundle(PLAINTEXT, KEY))
    sealed[4] = 9
    assert refused(bytes(sealed)).reason is Refusal.NEWER_FORMAT
    with pytest.raises(BundleError) as info:
        decrypt_bundle(encrypt_bundle(b"x" * 100, KEY), KEY, max_bytes=50)
    assert info.value.reason is Refusal.TOO_LARGE
    with pytest.raises(ValueError):
        encrypt_bundle(PLAINTEXT, b"short")


def test_team_key_text_round_trip_and_lenient_input() -> None:
    for key in [KEY, bytes(32), b"\xff" * 32, generate_team_key()]:
        text = format_team_key(key)
        groups = text.split("-")
        assert groups[0] == "DYY1" and len(groups) == 15 and all(len(g) == 4 for g in groups[1:])
        assert parse_team_key(text) == key
        sloppy = text.lower().replace("-", " ").replace("0", "o").replace("1", "l")
        assert parse_team_key(sloppy) == key
        assert parse_team_key(text.removeprefix("DYY1-")) == key


def test_every_single_character_typo_is_detected() -> None:
    text = format_team_key(KEY)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for position, ch in enumerate(text):
        if position < 5 or ch == "-":
            continue
        for wrong in alphabet.replace(ch, "")[::5]:
            typo = text[:position] + wrong + text[position + 1 :]
            with pytest.raises(TeamKeyError, match="校验不通过"):
                parse_team_key(typo)
    swapped = text[:6] + text[7] + text[6] + text[8:]
    if swapped != text:
        with pytest.raises(TeamKeyError):
            parse_team_key(swapped)


def test_team_key_errors_say_what_to_check() -> None:
    text = format_team_key(KEY)
    with pytest.raises(TeamKeyError, match="长度不对"):
        parse_team_key(text[:-4])
    with pytest.raises(TeamKeyError, match="第 2 组有无效字符“U”"):
        parse_team_key(text[:10] + "U" + text[11:])
