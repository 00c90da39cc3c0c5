"""TOML rule files with errors a supervisor can act on: file, line, field and reason, in Chinese.

tomllib gives values but no positions, so after a successful parse the text is scanned once to map
each key path (tables, arrays of tables, dotted and inline keys) to the line it is written on. The
scanner only has to be right for text tomllib already accepted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

Path = tuple[str | int, ...]

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_TABLE = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_ARRAY_TABLE = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")
_STRINGS = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'""")
_SYNTAX_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


class DataFileError(ValueError):
    """A rule or template file that cannot be used; `str()` is the message shown to the user."""

    def __init__(self, *, kind: str, source: str, line: int | None, field: str | None, reason: str) -> None:
        self.kind = kind
        self.source = source
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{kind} {source}" + (f" 第 {line} 行" if line is not None else "")
        what = f"字段 {field}: " if field else ""
        super().__init__(f"{where}: {what}{reason}")


def format_path(path: Path) -> str:
    """`steps[2].deadline.hours`; array positions are 1-based because users count from 1."""
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _split_key(dotted: str) -> list[str]:
    return [k[1:-1] if k[0] in "\"'" else k for k in re.findall(_KEY, dotted)]


def _code_part(line: str) -> str:
    """The line without string contents and comment, for bracket counting."""
    return _STRINGS.sub('""', line).split("#", 1)[0]


def index_lines(text: str) -> dict[Path, int]:
    """Map every key path written in `text` to its 1-based line number."""
    lines: dict[Path, int] = {}
    array_index: dict[Path, int] = {}
    table: Path = ()

    def resolve(keys: list[str]) -> Path:
        path: Path = ()
        for key in keys:
            path += (key,)
            if path in array_index:
                path += (array_index[path],)
        return path

    raw = text.splitlines()
    i = 0
    while i < len(raw):
        line, number = raw[i], i + 1
        i += 1
        if m := _ARRAY_TABLE.match(line):
            keys = _split_key(m.group(1))
            base = (*resolve(keys[:-1]), keys[-1])
            array_index[base] = array_index.get(base, -1) + 1
            table = (*base, array_index[base])
            lines.setdefault(base, number)
            lines[table] = number
        elif m := _TABLE.match(line):
            table = resolve(_split_key(m.group(1)))
            lines[table] = number
        elif m := _KEY_LINE.match(line):
            path = table + tuple(_split_key(m.group(1)))
            lines[path] = number
            value = m.group(2).strip()
            for delim in ('"""', "'''"):
                if value.startswith(delim) and delim not in value[3:]:
                    while i < len(raw) and delim not in raw[i]:
                        i += 1
                    i += 1
                    break
            else:
                code = _code_part(value)
                if code.startswith("{"):
                    for inner in _INLINE_KEY.finditer(code):
                        lines[path + tuple(_split_key(inner.group(1)))] = number
                depth = code.count("[") - code.count("]")
                while depth > 0 and i < len(raw):
                    depth += _code_part(raw[i]).count("[") - _code_part(raw[i]).count("]")
                    i += 1
    return lines


class TomlSource:
    """Parsed TOML plus the positions of its keys; `error()` builds a located DataFileError."""

    def __init__(self, text: str, source: str, *, kind: str) -> None:
        self.source = source
        self.kind = kind
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _SYNTAX_POS.search(str(exc))
            line = int(m.group(1)) if m else None
            if line is None and "end of document" in str(exc):
                line = max(1, len(text.splitlines()))
            column = f"第 {m.group(2)} 列" if m else ""
            raise DataFileError(
                kind=kind,
                source=source,
                line=line,
                field=None,
                reason=f"TOML 语法错误{(' (' + column + ')') if column else ''}，请检查引号、括号和等号"
                f"（原始信息: {exc}）",
            ) from exc
        self._lines = index_lines(text)

    def line_of(self, path: Path) -> int | None:
        """Line of the longest written prefix of `path` (a missing key points at its table)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def error(self, path: Path, reason: str) -> DataFileError:
        return DataFileError(
            kind=self.kind,
            source=self.source,
            line=self.line_of(path),
            field=format_path(path) or None,
            reason=reason,
        )

    def check_keys(self, table: Mapping[str, Any], path: Path, allowed: frozenset[str]) -> None:
        """Refuse unknown keys, so a typo never silently drops a setting."""
        for key in table:
            if key not in allowed:
                raise self.error((*path, key), f'未知字段 "{key}"（可用字段: {", ".join(sorted(allowed))}）')
