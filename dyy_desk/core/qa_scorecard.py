"""QA scorecard templates (评分表): TOML text in, a validated frozen `Scorecard` out.

The rule the templates follow (also written in the header of resources/scorecards/default.toml):
a review starts from 100 and deducts; a category's `points` is its weight; the categories sum to 100
and the items of one category sum to that category's points, so the most a category can cost is its
weight. Fatal items (一票否决) carry no points: any hit sets the score to 0.

tomllib reports no positions, so `_LineMap` re-reads the text to point every message at a line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

TOTAL_POINTS = 100
DEFAULT_PASS_MARK = 85

_ID_RE = re.compile(r"^[a-z0-9_]+$")
_ROOT_FIELDS = ("id", "version", "name", "pass_mark", "categories", "fatal")
_CATEGORY_FIELDS = ("id", "name", "points", "items")
_ITEM_FIELDS = ("id", "name", "points", "description")
_FATAL_FIELDS = ("id", "name", "description")


@dataclass(frozen=True)
class ScoreItem:
    id: str
    name: str
    points: int  # the most this item can cost in one review
    description: str
    category_id: str


@dataclass(frozen=True)
class ScoreCategory:
    id: str
    name: str
    points: int
    items: tuple[ScoreItem, ...]


@dataclass(frozen=True)
class FatalItem:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Scorecard:
    id: str
    version: int
    name: str
    pass_mark: int
    categories: tuple[ScoreCategory, ...]
    fatal_items: tuple[FatalItem, ...]

    @property
    def items(self) -> tuple[ScoreItem, ...]:
        return tuple(item for category in self.categories for item in category.items)

    def item(self, item_id: str) -> ScoreItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def fatal(self, fatal_id: str) -> FatalItem | None:
        return next((f for f in self.fatal_items if f.id == fatal_id), None)


@dataclass(frozen=True)
class ScorecardProblem:
    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"评分表 {self.source} 第 {self.line} 行: {self.reason}"


class ScorecardError(ValueError):
    """All problems of one template at once, so the author fixes them in one pass."""

    def __init__(self, problems: list[ScorecardProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))


_ARRAY_RE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.]+)\s*\]\]")
_TABLE_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.]+)\s*\]")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

_Path = tuple[str | int, ...]


class _LineMap:
    """Line of each table (by parsed path, e.g. ("categories", 1, "items", 0)) and of its keys."""

    def __init__(self, text: str) -> None:
        self._tables: dict[_Path, tuple[int, dict[str, int]]] = {(): (1, {})}
        last_of: dict[str, _Path] = {}
        counts: dict[tuple[_Path, str], int] = {}
        current: _Path = ()
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_multiline:
                in_multiline = quotes % 2 == 0
                continue
            if match := _ARRAY_RE.match(line):
                name = match.group(1)
                parent_name, _, leaf = name.rpartition(".")
                parent = last_of.get(parent_name, ()) if parent_name else ()
                index = counts.get((parent, leaf), 0)
                counts[(parent, leaf)] = index + 1
                current = (*parent, leaf, index)
                last_of[name] = current
                self._tables[current] = (number, {})
            elif match := _TABLE_RE.match(line):
                current = tuple(match.group(1).split("."))
                self._tables[current] = (number, {})
            elif match := _KEY_RE.match(line):
                self._tables[current][1].setdefault(match.group(1), number)
            in_multiline = quotes % 2 == 1

    def line(self, path: _Path, key: str | None = None) -> int:
        while path not in self._tables:
            # written inline (`categories = [{...}]`): point at the key that holds it
            path, key = path[:-1], next((str(p) for p in path[::-1] if isinstance(p, str)), None)
        table_line, keys = self._tables[path]
        return keys.get(key, table_line) if key is not None else table_line


class _Checker:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = _LineMap(text)
        self.problems: list[ScorecardProblem] = []
        self.seen_ids: dict[str, int] = {}

    def fail(self, path: _Path, key: str | None, reason: str) -> None:
        line = self.lines.line(path, key)
        self.problems.append(ScorecardProblem(self.source, line, key or "", reason))

    def fields(self, table: dict[str, Any], path: _Path, allowed: tuple[str, ...], what: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(path, key, f'{what}有未知字段 "{key}"（可用字段：{"、".join(allowed)}）')

    def text(self, table: dict[str, Any], path: _Path, key: str, what: str, required: bool = True) -> str:
        value = table.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(path, key if key in table else None, f"{what}缺少 {key}（必须是非空文本）")
            return ""
        return value.strip()

    def ident(self, table: dict[str, Any], path: _Path, what: str) -> str:
        value = self.text(table, path, "id", what)
        if value and not _ID_RE.match(value):
            self.fail(path, "id", f'{what} id "{value}" 只能用小写字母、数字和下划线')
        elif value in self.seen_ids:
            self.fail(path, "id", f'{what} id "{value}" 重复（第 {self.seen_ids[value]} 行已使用）')
        elif value:
            self.seen_ids[value] = self.lines.line(path, "id")
        return value

    def integer(self, table: dict[str, Any], path: _Path, key: str, what: str, low: int, high: int) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            shown = "缺失" if value is None else f"为 {value!r}"
            self.fail(
                path, key if key in table else None, f"{what}的 {key} {shown}，应为 {low}–{high} 的整数"
            )
            return 0
        return value

    def tables(self, table: dict[str, Any], key: str, path: _Path, what: str) -> list[dict[str, Any]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(path, key, f"{key} 必须写成 [[{what}]] 表格数组")
            return []
        return value


def parse_scorecard(text: str, source: str) -> Scorecard:
    """Parse and validate one template; raises ScorecardError naming source, line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        raise ScorecardError([ScorecardProblem(source, line, "", f"TOML 语法错误：{exc}")]) from exc
    check = _Checker(text, source)
    check.fields(data, (), _ROOT_FIELDS, "评分表")
    card_id = check.ident(data, (), "评分表")
    version = check.integer(data, (), "version", "评分表", 1, 1_000_000)
    name = check.text(data, (), "name", "评分表")
    pass_mark = DEFAULT_PASS_MARK
    if "pass_mark" in data:
        pass_mark = check.integer(data, (), "pass_mark", "评分表", 0, TOTAL_POINTS)
    categories = _categories(check, data)
    fatal_items = _fatal_items(check, data)
    if check.problems:
        raise ScorecardError(check.problems)
    return Scorecard(card_id, version, name, pass_mark, tuple(categories), tuple(fatal_items))


def _categories(check: _Checker, data: dict[str, Any]) -> list[ScoreCategory]:
    raw = check.tables(data, "categories", (), "categories")
    if not raw and "categories" in data:
        check.fail((), "categories", "评分表至少需要一个评分类别")
    elif "categories" not in data:
        check.fail((), None, "评分表缺少 categories（至少需要一个 [[categories]] 评分类别）")
    result: list[ScoreCategory] = []
    for index, table in enumerate(raw):
        path: _Path = ("categories", index)
        check.fields(table, path, _CATEGORY_FIELDS, "评分类别")
        cat_id = check.ident(table, path, "评分类别")
        label = f"评分类别「{table.get('name') or cat_id}」"
        cat_name = check.text(table, path, "name", label)
        points = check.integer(table, path, "points", label, 1, TOTAL_POINTS)
        items: list[ScoreItem] = []
        raw_items = check.tables(table, "items", path, "categories.items")
        if not raw_items:
            check.fail(path, "items" if "items" in table else None, f"{label}没有评分项（空类别）")
        for item_index, item_table in enumerate(raw_items):
            item_path: _Path = (*path, "items", item_index)
            check.fields(item_table, item_path, _ITEM_FIELDS, "评分项")
            item_id = check.ident(item_table, item_path, "评分项")
            item_label = f"评分项「{item_table.get('name') or item_id}」"
            items.append(
                ScoreItem(
                    id=item_id,
                    name=check.text(item_table, item_path, "name", item_label),
                    points=check.integer(item_table, item_path, "points", item_label, 1, TOTAL_POINTS),
                    description=check.text(item_table, item_path, "description", item_label, False),
                    category_id=cat_id,
                )
            )
        item_sum = sum(item.points for item in items)
        if raw_items and points and all(item.points for item in items) and item_sum != points:
            check.fail(path, "points", f"{label}各评分项分值之和为 {item_sum}，应等于类别分值 {points}")
        result.append(ScoreCategory(cat_id, cat_name, points, tuple(items)))
    total = sum(c.points for c in result)
    if result and all(c.points for c in result) and total != TOTAL_POINTS:
        check.fail(("categories", 0), None, f"各评分类别分值之和为 {total}，应等于满分 {TOTAL_POINTS}")
    return result


def _fatal_items(check: _Checker, data: dict[str, Any]) -> list[FatalItem]:
    result: list[FatalItem] = []
    for index, table in enumerate(check.tables(data, "fatal", (), "fatal")):
        path: _Path = ("fatal", index)
        fatal_id = check.ident(table, path, "致命项")
        label = f"致命项「{table.get('name') or fatal_id}」"
        if "points" in table:
            check.fail(path, "points", f"{label}不计分值，不能填写 points（命中即总分记 0 分）")
        check.fields({k: v for k, v in table.items() if k != "points"}, path, _FATAL_FIELDS, "致命项")
        name = check.text(table, path, "name", label)
        result.append(FatalItem(fatal_id, name, check.text(table, path, "description", label, False)))
    return result
