"""Encrypted bundle files (AES-256-GCM) and the team key as text people can read out or paste.

File layout: `DYYB` + format byte + 12-byte random nonce + ciphertext with its 16-byte tag. The 17
header bytes are authenticated as associated data, so any change anywhere fails the tag check.
Wrong key, flipped byte and truncation deliberately give one and the same message: GCM cannot tell
them apart, and a partial plaintext is never returned.

Team key text: `DYY1-` + 14 groups of 4 Crockford base32 characters encoding the 256-bit key
followed by a 24-bit checksum (first 3 bytes of SHA-256 over a label and the key). Crockford's
alphabet has no I, L, O, U; when typed they are read as 1, 1, 0 and refused respectively.
"""

from __future__ import annotations

import hashlib
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dyy_desk.core.sync.errors import BundleError, Refusal

MAGIC = b"DYYB"
FORMAT_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + NONCE_SIZE
KEY_SIZE = 32
MAX_FILE_BYTES = 256 * 1024 * 1024

DAMAGED_OR_WRONG_KEY = "数据包已损坏或团队密钥不正确"
NOT_A_BUNDLE = "这不是 DYY Desk 数据包。"

KEY_PREFIX = "DYY1"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_BYTES = 3
_KEY_CHARS = (KEY_SIZE + _CHECK_BYTES) * 8 // 5  # 280 bits → 56 characters → 14 groups of 4
_GROUP = 4
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_SEPARATORS = "- \t\r\n"
_PREFIX_RE = re.compile(r"DYY[1IL]")


class TeamKeyError(ValueError):
    """A team key text that cannot be right; `message` tells the person what to check."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def generate_team_key() -> bytes:
    return os.urandom(KEY_SIZE)


def encrypt_bundle(plaintext: bytes, key: bytes, *, nonce: bytes | None = None) -> bytes:
    """`nonce` is for tests only; every real bundle gets a fresh random one."""
    _check_key(key)
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise ValueError("nonce must be 12 bytes")
    header = MAGIC + bytes([FORMAT_VERSION]) + nonce
    return header + AESGCM(key).encrypt(nonce, plaintext, header)


def decrypt_bundle(data: bytes, key: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Plaintext of a whole, authentic bundle, or BundleError; never anything in between."""
    _check_key(key)
    if not data:
        raise BundleError(Refusal.DAMAGED, DAMAGED_OR_WRONG_KEY)
    if data[: len(MAGIC)] != MAGIC[: len(data)]:
        raise BundleError(Refusal.NOT_A_BUNDLE, NOT_A_BUNDLE)
    if len(data) > max_bytes:
        raise BundleError(Refusal.TOO_LARGE, f"数据包文件超过 {max_bytes // (1024 * 1024)} MB，已拒绝。")
    if len(data) > len(MAGIC) and data[len(MAGIC)] > FORMAT_VERSION:
        raise BundleError(
            Refusal.NEWER_FORMAT,
            f"数据包格式版本为 {data[len(MAGIC)]}，本程序只支持到 {FORMAT_VERSION}，请先升级 DYY Desk。",
        )
    if len(data) < HEADER_SIZE + TAG_SIZE or data[len(MAGIC)] != FORMAT_VERSION:
        raise BundleError(Refusal.DAMAGED, DAMAGED_OR_WRONG_KEY)
    header, nonce = data[:HEADER_SIZE], data[len(MAGIC) + 1 : HEADER_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, data[HEADER_SIZE:], header)
    except InvalidTag:
        raise BundleError(Refusal.DAMAGED, DAMAGED_OR_WRONG_KEY) from None


def format_team_key(key: bytes) -> str:
    _check_key(key)
    number = int.from_bytes(key + _checksum(key), "big")
    chars = "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(_KEY_CHARS)))
    groups = [chars[i : i + _GROUP] for i in range(0, _KEY_CHARS, _GROUP)]
    return "-".join([KEY_PREFIX, *groups])


def parse_team_key(text: str) -> bytes:
    """Accepts what people paste or type: any case, spaces or dashes anywhere, prefix optional."""
    upper = text.strip().upper()
    compact = "".join(ch for ch in upper if ch not in _SEPARATORS)
    # A bare 56-character key may by chance begin with "DYY1"; a separated or extra first group may not.
    if _PREFIX_RE.match(upper) and (len(compact) != _KEY_CHARS or upper[4:5] in _SEPARATORS):
        compact = compact[len(KEY_PREFIX) :]
    if len(compact) != _KEY_CHARS:
        raise TeamKeyError(
            f"团队密钥长度不对：除开头的 {KEY_PREFIX} 外应有 {_KEY_CHARS // _GROUP} 组、"
            f"每组 {_GROUP} 个字符，现在是 {len(compact)} 个字符。"
        )
    number = 0
    for position, ch in enumerate(compact):
        digit = CROCKFORD.find(_READ_AS.get(ch, ch))
        if digit < 0:
            raise TeamKeyError(f"团队密钥第 {position // _GROUP + 1} 组有无效字符“{ch}”，请核对。")
        number = number * 32 + digit
    raw = number.to_bytes(KEY_SIZE + _CHECK_BYTES, "big")
    key, check = raw[:KEY_SIZE], raw[KEY_SIZE:]
    if _checksum(key) != check:
        raise TeamKeyError("团队密钥有输入错误（校验不通过），请逐组核对后重新输入。")
    return key


def _checksum(key: bytes) -> bytes:
    return hashlib.sha256(b"DYY Desk team key v1\x00" + key).digest()[:_CHECK_BYTES]


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError("the team key must be 32 bytes")
