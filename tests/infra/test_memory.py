"""release_memory: module sources cached by linecache are dropped; malloc_trim only where glibc has it."""

from __future__ import annotations

import linecache
import sys

import pytest

from dyy_desk.infra import memory


def test_release_memory_drops_cached_module_sources() -> None:
    linecache.getlines(memory.__file__)
    assert memory.__file__ in linecache.cache
    memory.release_memory()
    assert memory.__file__ not in linecache.cache


def test_no_malloc_trim_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory._malloc_trim() is None
        memory.release_memory()  # nothing to trim: still no error
    finally:
        memory._malloc_trim.cache_clear()
