"""Parsers for the search resources: the jieba user dictionary and the synonym groups.

The caller reads the files (core does no I/O) and passes their text plus a source name; every error
names the source, the line, the field and the reason in Chinese, because supervisors edit these files.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass

from dyy_desk.core.search.normalise import normalise

_TAG_RE = re.compile(r"^[a-z]{1,4}$")
_TOML_LINE_RE = re.compile(r"at line (\d+)")


class SearchResourceError(ValueError):
    """A resource file is invalid; `str(error)` is the message shown to the user."""

    def __init__(self, source: str, line: int, field: str, reason: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = reason
        super().__init__(f"{source} 第 {line} 行: {field} {reason}")


@dataclass(frozen=True)
class DictWord:
    word: str
    freq: int | None
    tag: str | None


@dataclass(frozen=True)
class SearchResources:
    """Validated analysis resources. `fingerprint` changes whenever analysis results could change,
    so cached `AnalysedDoc`s made with other resources can be recognised and rebuilt."""

    words: tuple[DictWord, ...]
    synonyms: dict[str, str]  # variant → canonical, both normalised
    stopwords: frozenset[str]
    fingerprint: str


def parse_user_dict(text: str, source: str = "user_dict.txt") -> tuple[DictWord, ...]:
    """jieba format, one entry per line: `词 [词频] [词性]`; `#` starts a comment line."""
    words: list[DictWord] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) > 3:
            raise SearchResourceError(source, lineno, f'词条 "{line}"', "最多三项：词 词频 词性")
        word = normalise(parts[0])
        if word != parts[0].lower() or " " in word:
            raise SearchResourceError(
                source, lineno, f'词 "{parts[0]}"', "含有标点、空格或繁体字，请写成简体规范形式"
            )
        if word in seen:
            raise SearchResourceError(source, lineno, f'词 "{word}"', f"与第 {seen[word]} 行重复")
        seen[word] = lineno
        freq: int | None = None
        if len(parts) >= 2:
            if not parts[1].isdigit() or int(parts[1]) <= 0:
                raise SearchResourceError(source, lineno, f'词频 "{parts[1]}"', "不是正整数")
            freq = int(parts[1])
        tag: str | None = None
        if len(parts) == 3:
            if not _TAG_RE.match(parts[2]):
                raise SearchResourceError(
                    source, lineno, f'词性 "{parts[2]}"', "应为 1–4 个小写字母，如 n、v、nz"
                )
            tag = parts[2]
        words.append(DictWord(word, freq, tag))
    return tuple(words)


def _line_of(lines: list[str], key: str, start: int = 0) -> int:
    """Line (1-based) where `key` is defined: a line starting with the key, quoted or bare."""
    for i in range(start, len(lines)):
        head = lines[i].lstrip()
        if head.startswith((f'"{key}"', f"'{key}'", f"{key} ", f"{key}=", f"[{key}]")):
            return i + 1
    return start + 1


def _table_line(lines: list[str], table: str) -> int:
    for i, line in enumerate(lines):
        if line.strip() == f"[{table}]":
            return i
    return 0


def parse_synonyms(text: str, source: str = "synonyms.toml") -> tuple[dict[str, str], frozenset[str]]:
    """`[synonyms]` maps a canonical term to a list of variants; `[stopwords] words` lists ignored words.

    Returns (variant → canonical, stopwords), all normalised. A variant may belong to one group only,
    and a canonical term may not be another group's variant: either would make the mapping depend on
    the order of the file.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        line = int(match.group(1)) if match else max(len(text.splitlines()), 1)
        raise SearchResourceError(source, line, "TOML", f"格式错误（{exc}）") from exc
    lines = text.splitlines()
    unknown = set(data) - {"synonyms", "stopwords"}
    if unknown:
        name = sorted(unknown)[0]
        raise SearchResourceError(
            source, _line_of(lines, name), f"表 [{name}]", "不认识，只允许 [synonyms] 和 [stopwords]"
        )
    groups = data.get("synonyms", {})
    start = _table_line(lines, "synonyms")
    mapping: dict[str, str] = {}
    canonicals: dict[str, int] = {}
    for key, variants in groups.items():
        line = _line_of(lines, key, start)
        canonical = normalise(key)
        if not canonical:
            raise SearchResourceError(source, line, f'标准词 "{key}"', "为空")
        if not isinstance(variants, list) or not variants:
            raise SearchResourceError(
                source, line, f'标准词 "{key}"', '的说法应写成非空列表，如 ["退钱", "返钱"]'
            )
        canonicals[canonical] = line
        for variant in variants:
            if not isinstance(variant, str) or not normalise(variant):
                raise SearchResourceError(source, line, f'标准词 "{key}"', f"的说法 {variant!r} 不是非空文字")
            norm = normalise(variant)
            if norm == canonical:
                raise SearchResourceError(source, line, f'说法 "{variant}"', "与标准词相同")
            if norm in mapping:
                raise SearchResourceError(
                    source,
                    line,
                    f'说法 "{variant}"',
                    f'已属于标准词 "{mapping[norm]}" 的组，一个说法只能属于一组',
                )
            mapping[norm] = canonical
    for canonical, line in canonicals.items():
        if canonical in mapping:
            raise SearchResourceError(
                source, line, f'标准词 "{canonical}"', f'同时是标准词 "{mapping[canonical]}" 的说法'
            )
    stop_table = data.get("stopwords", {})
    words = stop_table.get("words", []) if isinstance(stop_table, dict) else None
    stop_line = _table_line(lines, "stopwords") + 1
    if not isinstance(words, list) or not all(isinstance(w, str) and normalise(w) for w in words):
        raise SearchResourceError(source, stop_line, "[stopwords] words", "应为非空文字的列表")
    return mapping, frozenset(normalise(w) for w in words)


def load_search_resources(
    user_dict_text: str,
    synonyms_text: str,
    *,
    user_dict_source: str = "user_dict.txt",
    synonyms_source: str = "synonyms.toml",
) -> SearchResources:
    """Parse and validate both resources; raises SearchResourceError naming the offending line."""
    words = parse_user_dict(user_dict_text, user_dict_source)
    synonyms, stopwords = parse_synonyms(synonyms_text, synonyms_source)
    digest = hashlib.sha256()
    for part in (user_dict_text, "\x00", synonyms_text):
        digest.update(part.encode("utf-8"))
    return SearchResources(words, synonyms, stopwords, digest.hexdigest()[:16])
