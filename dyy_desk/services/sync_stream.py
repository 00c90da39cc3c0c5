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
import operator
import os
import threading
import zlib
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from queue import Full, Queue

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dyy_desk.core.sync.codec import DAMAGED, HEADER_SIZE, MAGIC, NOT_A_BUNDLE, TRUNCATED, ZLIB_LEVEL
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.manifest import FORMAT_VERSION, BundleLimits, TableSummary
from dyy_desk.infra import bundle_crypto
from dyy_desk.services.sync_phases import Phases, mark

# Streaming removes the memory reason for the 128 MiB cap of the in-memory codec; the cap on the
# expansion ratio (decompression bombs) and on single records stays.
STREAM_LIMITS = BundleLimits(max_uncompressed_bytes=1024 * 1024 * 1024)
_SLICE = 1024 * 1024
# The compressing thread takes the GIL back three times per block (hash, checksum and deflate each
# let it go), waiting up to the switch interval (5 ms) each time while the exporting thread runs
# Python: blocks of 4 MiB keep those waits well below the time the thread works on a block.
_BLOCK = 4 * 1024 * 1024
_AHEAD = 4  # blocks waiting for the compressing thread
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

    Lines are collected per table into blocks of about `_BLOCK` bytes. Each block is hashed,
    Adler-summed and compressed on one worker thread (zlib and hashlib release the GIL on such
    blocks), so that work overlaps with building the next lines. One worker keeps the blocks in
    order; at most `_AHEAD` blocks wait for it, which bounds the memory they hold.
    Use as a context manager: leaving it stops the worker, also after an error or a cancel.
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
        self._table = ""
        self._last_id = ""
        self._block: list[bytes] = []
        self._block_size = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-deflate")
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)

    def add_lines(self, table: str, ids: Sequence[str], lines: list[bytes]) -> None:
        """The UTF-8 record lines (without newlines) of records `ids`, in (table, id) order."""
        if table != self._table:
            self._start_table(table)
        if not ids:
            return
        if ids[0] <= self._last_id or not all(map(operator.lt, ids, islice(ids, 1, None))):
            raise ValueError(f"records out of order in {table} after {self._last_id!r}")
        self._last_id = ids[-1]
        self._block += lines
        self._block_size += sum(map(len, lines))
        if self._block_size >= _BLOCK:
            self._flush_block()

    def _start_table(self, table: str) -> None:
        if table <= self._table:
            raise ValueError(f"records out of order: table {table} after {self._table}")
        self._flush_block()
        self._table, self._last_id = table, ""
        self._digests[table] = hashlib.sha256()
        self._counts[table] = 0

    def _flush_block(self) -> None:
        if not self._block:
            return
        self._counts[self._table] += len(self._block)
        self._block.append(b"")  # the last line's newline
        data = b"\n".join(self._block)
        self._block.clear()
        self._block_size = 0
        while len(self._pending) >= _AHEAD:
            self._pending.popleft().result()
        self._pending.append(self._worker.submit(self._digest_and_deflate, self._digests[self._table], data))

    def _digest_and_deflate(self, digest: hashlib._Hash, data: bytes) -> None:
        """Worker thread only (one worker: blocks are handled in the order they were made)."""
        start = mark()
        digest.update(data)
        self._adler = zlib.adler32(data, self._adler)
        self._length += len(data)
        piece = self._body.compress(data)
        if piece:
            self._pieces.append(piece)
        if self._phases is not None:
            self._phases.add("hash + compress (worker thread)", start)

    def _drain(self) -> None:
        self._flush_block()
        while self._pending:
            self._pending.popleft().result()

    def tables(self) -> dict[str, TableSummary]:
        self._drain()
        return {t: TableSummary(self._counts[t], d.hexdigest()) for t, d in self._digests.items()}

    def finish(self, manifest_line: bytes) -> list[bytes]:
        self._drain()
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
) -> Generator[bytes, None, None]:
    """Lines of the bundle without their newline; the last line must end the stream exactly.
    Close the generator when stopping early: that stops its inflating thread at once."""
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
    carry = b""
    max_line = limits.max_record_bytes + 64 * 1024  # the manifest line may be a little longer
    for piece in _in_thread(_inflate(compressed, limits, phases)):
        start = mark()
        lines = piece.split(b"\n")
        lines[0] = carry + lines[0]  # not `carry + piece`: that would copy every slice once more
        carry = lines.pop()
        if phases is not None:
            phases.add("split lines", start)
        if max(map(len, lines), default=0) > max_line:
            for line in lines:  # the lines before the oversized one still go first
                if len(line) > max_line:
                    raise _oversized(len(line), limits)
                yield line
        yield from lines
        if len(carry) > max_line:
            raise _oversized(len(carry), limits)
    if carry:
        raise BundleError(Refusal.DAMAGED, TRUNCATED)


def _inflate(compressed: memoryview, limits: BundleLimits, phases: Phases | None) -> Iterator[bytes]:
    """The inflated stream in slices, with the size limits checked as it grows; raises at the end if
    the stream stops short or anything follows it."""
    inflater = zlib.decompressobj()
    # Input goes in bounded pieces: `unconsumed_tail` is a copy of whatever input is left, so handing
    # over the whole file would copy it again for every slice of output (quadratic in the size).
    fed = 0
    pending: bytes | memoryview = b""
    total = 0
    try:
        while True:
            start = mark()
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
            if phases is not None:
                phases.add("inflate (worker thread)", start)
            if piece:
                yield piece
            if inflater.eof or (not piece and not pending and fed >= len(compressed)):
                break
    except zlib.error:
        raise BundleError(Refusal.DAMAGED, DAMAGED) from None
    if not inflater.eof:
        raise BundleError(Refusal.DAMAGED, TRUNCATED)
    if inflater.unused_data or fed < len(compressed):
        raise BundleError(Refusal.DAMAGED, DAMAGED)


_END = object()


def _in_thread(items: Iterator[bytes], depth: int = 8) -> Iterator[bytes]:
    """`items`, produced on a worker thread up to `depth` ahead (zlib releases the GIL while it
    inflates, so that overlaps with parsing). The worker's exception is raised here, after the
    items before it; leaving early (a refusal, a cancel) stops and joins the worker."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    worker = threading.Thread(target=run, name="bundle-inflate")
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        worker.join()


def _oversized(size: int, limits: BundleLimits) -> BundleError:
    return BundleError(
        Refusal.TOO_LARGE, f"数据包中有一条记录有 {size} 字节，超过单条上限 {limits.max_record_bytes} 字节。"
    )
