"""Text normalisation shared by indexing and querying.

Buyers type full-width letters from a Chinese IME, traditional characters from Hong Kong / Taiwan
keyboards, emoji and decorative punctuation. All of that must fold onto one canonical form before
segmentation, otherwise the same word produces different index terms on the two sides.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Protocol


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


_converter: _Converter | None = None
_converter_lock = threading.Lock()


def _t2s() -> _Converter:
    """OpenCC costs a few ms to load its tables; create it once, on first use, from any thread."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


# Variant and Taiwan/Hong Kong forms that OpenCC's t2s leaves alone (it keeps 著, 衹, 帳 because they are
# also valid simplified characters), folded character by character to the form mainland text uses. The
# region configs (tw2s, hk2s) are no substitute: they turn every 么 into 幺.
_VARIANTS = str.maketrans(
    {
        "著": "着",
        "衹": "只",
        "祇": "只",
        "帳": "账",
        "帐": "账",
        "瞭": "了",
        "妳": "你",
        "牠": "它",
        "祂": "他",
        "粧": "妆",
        "菓": "果",
        "衞": "卫",
        "迺": "乃",
        "閧": "哄",
        "甦": "苏",
    }
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
# Anything that is not a letter or digit (emoji, punctuation, symbols, "_") separates tokens, except a
# joiner between two letters/digits.
_NOISE = re.compile(r"(?:[^\w.+%#]|_|(?<![^\W_])[.+%#]|[.+%#](?![^\W_]))+")


def is_cjk_text(text: str) -> bool:
    """True when every character is a CJK ideograph (used to decide which tokens get pinyin)."""
    return _CJK_RUN.fullmatch(text) is not None


def normalise(text: str) -> str:
    """Fold width, case and script; turn emoji and punctuation into single spaces.

    Letters (any script), digits and CJK ideographs survive; a joiner character survives only between
    two kept characters so "1.5米" stays one token while a trailing "." disappears.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    if _HAS_CJK.search(folded):
        folded = _t2s().convert(folded).translate(_VARIANTS)
    return _NOISE.sub(" ", folded).strip()


def shortcut_code(query: str) -> str | None:
    """The code after a leading slash ("/thh", full-width "／thh"), or None for an ordinary query."""
    folded = unicodedata.normalize("NFKC", query).strip().lower()
    if len(folded) < 2 or folded[0] not in "/\\、":
        return None
    code = folded[1:].strip()
    if not code or not all(ch.isalnum() or ch in "_-" for ch in code):
        return None
    return code


def normalise_shortcut(shortcut: str) -> str:
    """Library shortcuts are stored as typed ("/THH", "thh"); compare them without slash or case."""
    folded = unicodedata.normalize("NFKC", shortcut).strip().lower()
    return folded.lstrip("/\\、").strip()
