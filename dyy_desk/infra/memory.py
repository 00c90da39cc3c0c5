"""Give memory back to the operating system after the app's big one-off loads.

Why: two things keep the resident size of a long session above what it holds.
- PySide6's import hook (shiboken's feature check, PYSIDE-2029) reads the source of every module
  imported after PySide6 through `linecache`, which keeps it: about 30 MB of source lines for this
  app's imports that nothing reads again. A traceback reads the few files it shows afresh.
- glibc keeps freed heap pages for reuse; `malloc_trim(0)` hands them back, so a finished pass leaves
  its peak behind. Other C libraries (macOS, Windows, musl) have no such call and are left alone.

Threading: callable from any thread. The stdlib itself drops linecache entries from any thread
(`linecache.checkcache`, called while formatting tracebacks), so clearing it is no new hazard.
"""

from __future__ import annotations

import ctypes
import linecache
import sys
from collections.abc import Callable
from functools import cache


def release_memory() -> None:
    """Drop cached module sources and return free heap pages (where the C library can)."""
    linecache.clearcache()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the process does not run on glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (musl lacks malloc_trim, too)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
