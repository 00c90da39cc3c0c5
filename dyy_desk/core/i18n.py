"""Translation hooks: every UI string goes through _() so a second language can follow.

The source language is Simplified Chinese; a catalog installed with `install()` maps it to another.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = lambda text: text  # noqa: E731 - identity until a catalog is installed


def install(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


def _(text: str) -> str:
    return _translate(text)


def N_(text: str) -> str:
    """Mark a string for extraction without translating it yet (module-level constants)."""
    return text
