"""Trim the ICU data library that Qt loads on Linux to the parts Qt's own ICU calls can read.

Why: PySide6's Linux wheels link QtCore against ICU, whose data library (libicudata.so.NN) is 32 MB — a
fifth of the whole build. QtCore calls ICU only for collation (ucol_*), text codecs (ucnv_*), time-zone
ids and names (ucal_*) and case mapping (u_strToUpper/u_strToLower); `qt_icu_calls` proves that on the
binaries being bundled, and the trim is skipped if anything else appears. Those calls never read the data
trees for break iteration, transliteration, spelled-out numbers or the display names of units,
currencies, languages and regions, nor the character names, stringprep profiles or spoof-checker data,
so those items go. Every locale's collation, codec table and time-zone name stays.

The data is an ICU "common data" package (a table of contents of named items) exported from the library as
the symbol icudtNN_dat; the trimmed package is assembled into a new library with the same soname and
symbol (a C compiler's assembler does it with .incbin). Windows and macOS builds of Qt use the system's
ICU or none, so this is Linux-only. Standard library only: build_installer.spec imports it.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

DROPPED_TREES = ("brkitr", "translit", "rbnf", "unit", "curr", "lang", "region")
DROPPED_ITEMS = ("unames.icu",)
DROPPED_SUFFIXES = (".spp", ".cfu")  # stringprep profiles (IDNA2003), spoof-checker confusables
# The ICU entry points whose data needs the trim keeps (ICU appends its major version: ucol_open_73).
QT_ICU_FAMILIES = ("ucol_", "ucnv_", "UCNV_", "ucal_", "u_strToUpper", "u_strToLower")
_ICU_SYMBOL = re.compile(r"^(u\w+|U\w+)_(\d{2,3})$")
_ALIGN = 16  # ICU aligns every item of a common data package to 16 bytes
_PAD = b"\xaa"  # and fills the gaps with 0xAA, as its pkgdata tool does


class NotTrimmable(ValueError):
    """The input is not what this module knows how to trim; the caller keeps the original library."""


# --- ELF (64-bit little-endian: Linux x86_64 and aarch64) -----------------------------------------------
def _sections(blob: bytes) -> list[tuple[str, int, int, int, int, int]]:
    """(name, type, address, offset, size, link) for every section."""
    if blob[:4] != b"\x7fELF" or blob[4] != 2 or blob[5] != 1:
        raise NotTrimmable("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", blob, 0x3A)
    raw = [struct.unpack_from("<IIQQQQIIQQ", blob, shoff + i * shentsize) for i in range(shnum)]
    names_at = raw[shstrndx][4]

    def name(offset: int) -> str:
        start = names_at + offset
        return blob[start : blob.index(b"\0", start)].decode("ascii")

    return [(name(s[0]), s[1], s[3], s[4], s[5], s[6]) for s in raw]


def _dynamic_symbols(blob: bytes) -> list[tuple[str, int, int, int]]:
    """(name, section index, value, size) of every dynamic symbol; section index 0 means undefined."""
    sections = _sections(blob)
    dynsym = next((s for s in sections if s[0] == ".dynsym"), None)
    if dynsym is None:
        return []
    strtab_offset = sections[dynsym[5]][3]
    symbols = []
    for at in range(dynsym[3], dynsym[3] + dynsym[4], 24):
        st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", blob, at)
        start = strtab_offset + st_name
        symbols.append((blob[start : blob.index(b"\0", start)].decode("ascii"), shndx, value, size))
    return symbols


def icu_calls(binary: Path) -> set[str]:
    """The ICU functions `binary` imports, without the version suffix (ucol_open_73 → ucol_open)."""
    blob = binary.read_bytes()
    if not blob.startswith(b"\x7fELF"):
        return set()
    calls = set()
    for name, shndx, _value, _size in _dynamic_symbols(blob):
        match = _ICU_SYMBOL.match(name)
        if shndx == 0 and match:
            calls.add(match.group(1))
    return calls


def qt_icu_calls(binaries: Iterable[Path]) -> tuple[set[str], set[str]]:
    """(all ICU calls, those outside QT_ICU_FAMILIES) of the given non-ICU ELF binaries."""
    calls: set[str] = set()
    for binary in binaries:
        if not binary.name.startswith("libicu"):
            calls |= icu_calls(binary)
    return calls, {c for c in calls if not c.startswith(QT_ICU_FAMILIES)}


def exported_data(library: Path) -> tuple[str, bytes]:
    """(symbol, bytes) of the icudtNN_dat package a libicudata.so exports."""
    blob = library.read_bytes()
    sections = _sections(blob)
    for name, shndx, value, size in _dynamic_symbols(blob):
        if re.fullmatch(r"icudt\d+_dat", name) and shndx:
            _n, _type, address, offset, section_size, _link = sections[shndx]
            start = offset + value - address
            return name, blob[start : start + (size or section_size - (value - address))]
    raise NotTrimmable(f"{library.name} exports no icudtNN_dat symbol")


# --- ICU common data package ("CmnD") ---------------------------------------------------------------
def split_package(package: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(item name, item bytes)]) in table-of-contents order (sorted by name)."""
    header_size, magic = struct.unpack_from("<H2s", package, 0)
    if magic != b"\xda\x27" or package[12:16] != b"CmnD" or package[8] != 0:
        raise NotTrimmable("not a little-endian ICU common data package")
    toc = header_size
    (count,) = struct.unpack_from("<I", package, toc)
    entries = [struct.unpack_from("<II", package, toc + 4 + 8 * i) for i in range(count)]
    ends = [toc + data for _name, data in entries[1:]] + [len(package)]
    items = []
    for (name_at, data_at), end in zip(entries, ends, strict=True):
        start = toc + name_at
        name = package[start : package.index(b"\0", start)].decode("ascii")
        items.append((name, package[toc + data_at : end]))
    return package[:header_size], items


def join_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """The package `split_package` reads: header, count, (name, data) offsets, names, 16-aligned items."""
    toc = len(header)
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in items)
    names_at = 4 + 8 * len(items)
    data_at = names_at + len(names)
    data_at += -(toc + data_at) % _ALIGN
    entries, blobs, name_offset = [], bytearray(), names_at
    for name, data in items:
        entries.append(struct.pack("<II", name_offset, data_at + len(blobs)))
        name_offset += len(name) + 1
        blobs += data + _PAD * (-len(data) % _ALIGN)
    padding = _PAD * (data_at - names_at - len(names))
    return header + struct.pack("<I", len(items)) + b"".join(entries) + names + padding + bytes(blobs)


def is_kept(name: str) -> bool:
    """Whether the item "icudt73l/<path>" stays in the trimmed package."""
    path = name.split("/", 1)[1]
    return not (
        path.split("/", 1)[0] in DROPPED_TREES or path in DROPPED_ITEMS or path.endswith(DROPPED_SUFFIXES)
    )


def trim_package(package: bytes) -> tuple[bytes, list[str]]:
    """(trimmed package, names of the dropped items)."""
    header, items = split_package(package)
    kept = [(name, data) for name, data in items if is_kept(name)]
    return join_package(header, kept), [name for name, _data in items if not is_kept(name)]


# --- the replacement library ----------------------------------------------------------------------------
_ASSEMBLY = """\
    .section .rodata
    .globl {symbol}
    .type {symbol}, @object
    .balign 16
{symbol}:
    .incbin "{data}"
    .size {symbol}, . - {symbol}
    .section .note.GNU-stack,"",@progbits
"""


def build_trimmed_library(
    original: Path, out_dir: Path, compiler: str | None = None
) -> tuple[Path, list[str]]:
    """A libicudata with the original's file name, soname and symbol holding the trimmed package.

    Returns (path of the new library, dropped item names). Raises NotTrimmable when no C compiler is
    found or the library is not one this module understands; the caller then bundles the original."""
    cc = compiler or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise NotTrimmable("no C compiler (cc, gcc or clang) to assemble the trimmed ICU data library")
    symbol, package = exported_data(original)
    trimmed, dropped = trim_package(package)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / original.name
    with tempfile.TemporaryDirectory(prefix="dyy-icu-") as tmp:
        data = Path(tmp) / f"{symbol}.bin"
        data.write_bytes(trimmed)
        source = Path(tmp) / "icudata.S"
        source.write_text(_ASSEMBLY.format(symbol=symbol, data=data.as_posix()), encoding="ascii")
        command = [cc, "-shared", "-nostdlib", f"-Wl,-soname,{original.name}", "-o", str(target), str(source)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise NotTrimmable(f"assembling the trimmed ICU data failed: {result.stderr.strip()}")
    if exported_data(target) != (symbol, trimmed):
        raise NotTrimmable(f"{target} does not export the trimmed package as {symbol}")
    return target, dropped
