"""Bundle bytes written and read as a stream, in the exact format of `core/sync/codec.py`.

`core.sync.codec` builds and parses whole bundles in memory, which is right for tests and small
bundles but not for 600 000 records. Here records are compressed as they come from the database
and the manifest, known only at the end, is compressed separately and put in front: a raw deflate
block ending in a sync flush followed by the records' deflate stream is one valid deflate stream,
and the zlib trailer's Adler-32 is combined arithmetically. The file is encrypted chunk by chunk
(AES-GCM, identical output to `bundle_crypto.encrypt_bundle`). Reading decrypts the whole file
(GCM must verify the tag before any byte is trusted) and inflates it slice by slice with the limits
checked as it goes, yielding one line at a time.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dyy_desk.core.sync.codec import DAMAGED, HEADER_SIZE, MAGIC, NOT_A_BUNDLE, TRUNCATED, ZLIB_LEVEL
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.manifest import FORMAT_VERSION, BundleLimits, TableSummary
from dyy_desk.infra import bundle_crypto
from dyy_desk.services.sync_phases import Phases

# Streaming removes the memory reason for the 128 MiB cap of the in-memory codec; the cap on the
# expansion ratio (decompression bombs) and on single records stays.
STREAM_LIMITS = BundleLimits(max_uncompressed_bytes=1024 * 1024 * 1024)
_SLICE = 1024 * 1024
_BLOCK = 256 * 1024
_INPUT = 256 * 1024  # compressed bytes handed to the inflater at a time
_BASE = 65521


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of A+B from those of A and B (zlib's adler32_combine)."""
    rem = len2 % _BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % _BASE
    sum1 += (adler2 & 0xFFFF) + _BASE - 1
    sum2 += ((adler1 >> 16) & 0xFFFF) + ((adler2 >> 16) & 0xFFFF) + _BASE - rem
    sum1 = sum1 - _BASE if sum1 >= _BASE else sum1
    sum1 = sum1 - _BASE if sum1 >= _BASE else sum1
    sum2 = sum2 - 2 * _BASE if sum2 >= 2 * _BASE else sum2
    sum2 = sum2 - _BASE if sum2 >= _BASE else sum2
    return sum1 | (sum2 << 16)


class BundleWriter:
    """Feed record lines in (table, id) order; `finish` returns the plaintext bundle in pieces.

    Lines are collected per table and hashed, checksummed and compressed in blocks of about
    `_BLOCK` bytes: the same bytes as line by line, with far fewer calls.
    """

    def __init__(self, *, level: int = ZLIB_LEVEL, phases: Phases | None = None) -> None:
        self._level = level
        self._phases = phases
        self._body = zlib.compressobj(level, zlib.DEFLATED, -15)
        self._pieces: list[bytes] = []
        self._adler = 1
        self._length = 0
        self._digests: dict[str, hashlib._Hash] = {}
        self._counts: dict[str, int] = {}
        self._last: tuple[str, str] | None = None
        self._table = ""
        self._block: list[bytes] = []
        self._block_size = 0

    def add(self, table: str, record_id: str, line: bytes) -> None:
        key = (table, record_id)
        if self._last is not None and key <= self._last:
            raise ValueError(f"records out of order: {key} after {self._last}")
        self._last = key
        if table != self._table:
            self._flush_block()
            self._table = table
            self._digests.setdefault(table, hashlib.sha256())
            self._counts.setdefault(table, 0)
        self._counts[table] += 1
        self._block.append(line)
        self._block_size += len(line) + 1
        if self._block_size >= _BLOCK:
            self._flush_block()

    def _flush_block(self) -> None:
        if not self._block:
            return
        start = time.perf_counter()
        data = b"\n".join(self._block) + b"\n"
        self._block.clear()
        self._block_size = 0
        self._digests[self._table].update(data)
        self._adler = zlib.adler32(data, self._adler)
        self._length += len(data)
        piece = self._body.compress(data)
        if piece:
            self._pieces.append(piece)
        if self._phases is not None:
            self._phases.add("hash + compress", time.perf_counter() - start)

    def tables(self) -> dict[str, TableSummary]:
        self._flush_block()
        return {t: TableSummary(self._counts[t], d.hexdigest()) for t, d in self._digests.items()}

    def finish(self, manifest_line: bytes) -> list[bytes]:
        self._flush_block()
        head_data = manifest_line + b"\n"
        head = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        first = head.compress(head_data) + head.flush(zlib.Z_SYNC_FLUSH)
        self._pieces.append(self._body.flush(zlib.Z_FINISH))
        adler = adler32_combine(zlib.adler32(head_data), self._adler, self._length)
        zlib_header = zlib.compress(b"", self._level)[:2]  # CMF/FLG as zlib writes them for this level
        return [
            MAGIC + bytes([FORMAT_VERSION]) + zlib_header + first,
            *self._pieces,
            adler.to_bytes(4, "big"),
        ]


def write_encrypted(path: Path, pieces: list[bytes], key: bytes) -> int:
    """Encrypt the plaintext pieces into `path` atomically; returns the file size."""
    nonce = os.urandom(bundle_crypto.NONCE_SIZE)
    header = bundle_crypto.MAGIC + bytes([bundle_crypto.FORMAT_VERSION]) + nonce
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header)
    tmp = path.with_name(path.name + ".part")
    size = 0
    try:
        with open(tmp, "wb") as handle:
            handle.write(header)
            for index in range(len(pieces)):
                handle.write(encryptor.update(pieces[index]))
                pieces[index] = b""  # free as we go
            handle.write(encryptor.finalize())
            handle.write(encryptor.tag)
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size


def read_plaintext(path: Path, key: bytes) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleError(Refusal.NOT_A_BUNDLE, f"无法读取文件 {path}（{exc.strerror or exc}）。") from None
    if size > bundle_crypto.MAX_FILE_BYTES:
        raise BundleError(
            Refusal.TOO_LARGE, f"数据包文件超过 {bundle_crypto.MAX_FILE_BYTES // (1024 * 1024)} MB，已拒绝。"
        )
    return bundle_crypto.decrypt_bundle(path.read_bytes(), key)


def iter_lines(
    plaintext: bytes, *, limits: BundleLimits = STREAM_LIMITS, phases: Phases | None = None
) -> Iterator[bytes]:
    """Lines of the bundle without their newline; the last line must end the stream exactly."""
    if not plaintext:
        raise BundleError(Refusal.DAMAGED, TRUNCATED)
    if plaintext[: len(MAGIC)] != MAGIC[: len(plaintext)]:
        raise BundleError(Refusal.NOT_A_BUNDLE, NOT_A_BUNDLE)
    if len(plaintext) <= HEADER_SIZE:
        raise BundleError(Refusal.DAMAGED, TRUNCATED)
    if plaintext[len(MAGIC)] > FORMAT_VERSION:
        raise BundleError(
            Refusal.NEWER_FORMAT,
            f"数据包格式版本为 {plaintext[len(MAGIC)]}，本程序只支持到 {FORMAT_VERSION}，请先升级 DYY Desk。",
        )
    if plaintext[len(MAGIC)] == 0:
        raise BundleError(Refusal.DAMAGED, DAMAGED)
    compressed = memoryview(plaintext)[HEADER_SIZE:]
    inflater = zlib.decompressobj()
    # Input goes in bounded pieces: `unconsumed_tail` is a copy of whatever input is left, so handing
    # over the whole file would copy it again for every slice of output (quadratic in the size).
    fed = 0
    pending: bytes | memoryview = b""
    total = 0
    carry = b""
    max_line = limits.max_record_bytes + 64 * 1024  # the manifest line may be a little longer
    try:
        while True:
            start = time.perf_counter()
            if not pending:
                pending = compressed[fed : fed + _INPUT]
                fed += len(pending)
            piece = inflater.decompress(pending, _SLICE)
            pending = inflater.unconsumed_tail
            total += len(piece)
            consumed = fed - len(pending)
            if total > limits.max_uncompressed_bytes or (
                total > limits.ratio_floor_bytes and total > limits.max_ratio * max(consumed, 1)
            ):
                raise BundleError(
                    Refusal.TOO_LARGE,
                    f"数据包解压后超过上限（{limits.max_uncompressed_bytes // (1024 * 1024)} MB）"
                    "或压缩比异常，已拒绝。",
                )
            if piece:
                lines = (carry + piece).split(b"\n")
                carry = lines.pop()
                if phases is not None:
                    phases.add("inflate + split lines", time.perf_counter() - start)
                if max(map(len, lines), default=0) > max_line:
                    for line in lines:  # the lines before the oversized one still go first
                        if len(line) > max_line:
                            raise _oversized(len(line), limits)
                        yield line
                yield from lines
                if len(carry) > max_line:
                    raise _oversized(len(carry), limits)
            if inflater.eof or (not piece and not pending and fed >= len(compressed)):
                break
    except zlib.error:
        raise BundleError(Refusal.DAMAGED, DAMAGED) from None
    if not inflater.eof or carry:
        raise BundleError(Refusal.DAMAGED, TRUNCATED)
    if inflater.unused_data or fed < len(compressed):
        raise BundleError(Refusal.DAMAGED, DAMAGED)


def _oversized(size: int, limits: BundleLimits) -> BundleError:
    return BundleError(
        Refusal.TOO_LARGE, f"数据包中有一条记录有 {size} 字节，超过单条上限 {limits.max_record_bytes} 字节。"
    )
