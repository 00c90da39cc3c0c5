"""Automatic escalation rules as data (resources/escalation_rules.toml) and their schema.

`parse_rules` returns a new RuleSet or raises DataFileError naming file, line, field and reason; it
never mutates anything, so the caller keeps the previous rules in force when an edit is refused.
Three kinds of rule cover the agency playbook:
  sop_deadline  an SOP step due soon / overdue → one level each (per step);
  window        ≥ min_count matching tickets within window_hours for one group (shop, or client +
                category + product/tag …) → one escalation grouping them;
  ticket        a single ticket matching a category and/or flag (平台介入, 信息泄露) → at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import unquote

from dyy_desk.core.escalation_model import EscalationLevel, TicketFact
from dyy_desk.core.sop_toml import Path, TomlSource
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus

FILE_KIND = "升级规则"
SUPPORTED_VERSION = 1
DEFAULT_RESPONSE_HOURS: Mapping[EscalationLevel, float] = {
    EscalationLevel.L1: 24,
    EscalationLevel.L2: 4,
    EscalationLevel.L3: 2,
}
# A closed or resolved ticket no longer fires a single-ticket rule (e.g. history imported in bulk);
# window rules still count it, because a repeated problem stays repeated once each case is solved.
INACTIVE_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_E = TypeVar("_E", bound=StrEnum)


class GroupBy(StrEnum):
    CLIENT = "client"
    SHOP = "shop"
    CATEGORY = "category"
    PRODUCT_OR_TAG = "product_or_tag"


class TicketFlag(StrEnum):
    PLATFORM_INTERVENTION = "platform_intervention"


def _part(name: str, value: str) -> str:
    """One `name=value` part of a group key; `%`, `|` and `=` are escaped so keys split back exactly."""
    return f"{name}=" + value.replace("%", "%25").replace("|", "%7C").replace("=", "%3D")


def split_group_key(key: str) -> list[tuple[str, str]]:
    """The (name, value) parts of a group key, e.g. [("shop", "s1")]."""
    return [(name, unquote(value)) for name, value in (part.split("=", 1) for part in key.split("|"))]


def ticket_key(ticket_id: str, step_id: str = "") -> str:
    """Group key of a single-ticket rule, or of one SOP step."""
    key = _part("ticket", ticket_id)
    return f"{key}|{_part('step', step_id)}" if step_id else key


@dataclass(frozen=True)
class SopDeadlineRule:
    id: str
    name: str
    due_soon_level: EscalationLevel
    overdue_level: EscalationLevel


@dataclass(frozen=True)
class WindowRule:
    id: str
    name: str
    level: EscalationLevel
    categories: frozenset[TicketCategory]
    group_by: tuple[GroupBy, ...]
    min_count: int
    window: timedelta
    platforms: frozenset[Platform] = frozenset()

    def group_keys(self, ticket: TicketFact) -> list[str]:
        """Keys of the groups `ticket` counts in; several when it names a product and tags."""
        if ticket.category not in self.categories or (
            self.platforms and ticket.platform not in self.platforms
        ):
            return []
        fixed: list[str] = []
        variants = [""]
        for by in self.group_by:
            if by is GroupBy.CLIENT:
                fixed.append(_part("client", ticket.client_id))
            elif by is GroupBy.SHOP:
                fixed.append(_part("shop", ticket.shop_id))
            elif by is GroupBy.CATEGORY:
                fixed.append(_part("category", ticket.category.value))
            else:
                variants = [_part("product", ticket.product)] if ticket.product else []
                variants += [_part("tag", tag) for tag in sorted(ticket.tags)]
        head = "|".join(fixed)
        return [f"{head}|{v}" if head and v else head or v for v in variants]


@dataclass(frozen=True)
class TicketRule:
    id: str
    name: str
    level: EscalationLevel
    categories: frozenset[TicketCategory]
    flag: TicketFlag | None
    platforms: frozenset[Platform] = frozenset()

    def matches(self, ticket: TicketFact) -> bool:
        return (
            ticket.status not in INACTIVE_STATUSES
            and (not self.categories or ticket.category in self.categories)
            and (self.flag is None or ticket.platform_intervention)
            and (not self.platforms or ticket.platform in self.platforms)
        )


Rule = SopDeadlineRule | WindowRule | TicketRule


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    response_windows: Mapping[EscalationLevel, timedelta]

    def response_window(self, level: EscalationLevel) -> timedelta:
        return self.response_windows[level]


def default_response_windows() -> dict[EscalationLevel, timedelta]:
    return {level: timedelta(hours=hours) for level, hours in DEFAULT_RESPONSE_HOURS.items()}


_TOP_KEYS = frozenset({"version", "levels", "rules"})
_LEVEL_KEYS = frozenset({"first_response_hours"})
_COMMON_KEYS = frozenset({"id", "kind", "name", "enabled"})
_KIND_KEYS: dict[str, frozenset[str]] = {
    "sop_deadline": _COMMON_KEYS | {"due_soon_level", "overdue_level"},
    "window": _COMMON_KEYS | {"level", "categories", "group_by", "min_count", "window_hours", "platforms"},
    "ticket": _COMMON_KEYS | {"level", "categories", "flag", "platforms"},
}


class _Table:
    """Typed, located access to one TOML table; each failure raises a DataFileError."""

    def __init__(self, src: TomlSource, value: Any, path: Path, allowed: frozenset[str]) -> None:
        if not isinstance(value, dict):
            raise src.error(path, "应为表（[...] 或 {...}）")
        src.check_keys(value, path, allowed)
        self.src, self.data, self.path = src, value, path

    def get(self, key: str, required: bool) -> Any:
        if key not in self.data and required:
            raise self.src.error((*self.path, key), f'缺少必填字段 "{key}"')
        return self.data.get(key)

    def fail(self, key: str, reason: str) -> Exception:
        return self.src.error((*self.path, key), reason)

    def text(self, key: str) -> str:
        value = self.get(key, True)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "应为非空文字")
        return value.strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, "应为 true 或 false")
        return value

    def positive(self, key: str, *, integer: bool = False) -> float:
        value = self.get(key, True)
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or not math.isfinite(value) or value <= 0:
            kind = "正整数" if integer else "大于 0 的数"
            raise self.fail(key, f"应为{kind}（当前为 {value!r}）")
        return float(value)

    def level(self, key: str) -> EscalationLevel:
        value = self.get(key, True)
        try:
            return EscalationLevel.from_code(value if isinstance(value, str) else repr(value))
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def choices(self, key: str, enum: type[_E], *, required: bool) -> tuple[_E, ...]:
        value = self.get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or (required and not value):
            raise self.fail(key, '应为非空列表，例如 ["' + next(iter(enum)).value + '"]')
        out: list[_E] = []
        for item in value:
            try:
                choice = enum(item)
            except ValueError:
                options = ", ".join(e.value for e in enum)
                raise self.fail(key, f'未知取值 "{item}"（可选: {options}）') from None
            if choice in out:
                raise self.fail(key, f'"{item}" 重复')
            out.append(choice)
        return tuple(out)


def parse_rules(text: str, source: str) -> RuleSet:
    """Parse and validate an escalation rules file; `source` is the file name used in messages."""
    src = TomlSource(text, source, kind=FILE_KIND)
    top = _Table(src, src.data, (), _TOP_KEYS)
    version = top.get("version", True)
    if version != SUPPORTED_VERSION:
        raise top.fail("version", f"不支持的版本 {version!r}（本程序支持 {SUPPORTED_VERSION}）")
    windows = default_response_windows()
    levels = _Table(src, top.data.get("levels", {}), ("levels",), frozenset(e.name for e in EscalationLevel))
    for code, table in levels.data.items():
        level_table = _Table(src, table, ("levels", code), _LEVEL_KEYS)
        windows[EscalationLevel.from_code(code)] = timedelta(
            hours=level_table.positive("first_response_hours")
        )
    raw_rules = top.data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise top.fail("rules", "应为规则表数组（每条规则以 [[rules]] 开头）")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule, enabled = _parse_rule(src, raw, ("rules", i), seen)
        if enabled:
            rules.append(rule)
    return RuleSet(rules=tuple(rules), response_windows=windows)


def _parse_rule(src: TomlSource, raw: Any, path: Path, seen: set[str]) -> tuple[Rule, bool]:
    if not isinstance(raw, dict):
        raise src.error(path, "应为表（[[rules]]）")
    kind = raw.get("kind")
    if kind not in _KIND_KEYS:
        field = (*path, "kind")
        if kind is None:
            raise src.error(field, '缺少必填字段 "kind"')
        raise src.error(field, f'未知规则类型 "{kind}"（可选: {", ".join(_KIND_KEYS)}）')
    table = _Table(src, raw, path, _KIND_KEYS[kind])
    rule_id = table.text("id")
    if not _ID.match(rule_id):
        raise table.fail("id", f'"{rule_id}" 只能用小写字母、数字和下划线，且以字母开头')
    if rule_id in seen:
        raise table.fail("id", f'规则 id "{rule_id}" 重复')
    seen.add(rule_id)
    name, enabled = table.text("name"), table.flag("enabled", True)
    rule: Rule
    if kind == "sop_deadline":
        due_soon, overdue = table.level("due_soon_level"), table.level("overdue_level")
        if overdue < due_soon:
            raise table.fail(
                "overdue_level", f"已超时级别 {overdue.code} 不能低于即将超时级别 {due_soon.code}"
            )
        rule = SopDeadlineRule(rule_id, name, due_soon, overdue)
    elif kind == "window":
        level, categories = table.level("level"), table.choices("categories", TicketCategory, required=True)
        group_by = table.choices("group_by", GroupBy, required=True)
        min_count = int(table.positive("min_count", integer=True))
        window = timedelta(hours=table.positive("window_hours"))
        platforms = table.choices("platforms", Platform, required=False)
        rule = WindowRule(
            rule_id, name, level, frozenset(categories), group_by, min_count, window, frozenset(platforms)
        )
    else:
        level = table.level("level")
        categories = table.choices("categories", TicketCategory, required=False)
        flag = table.get("flag", False)
        if flag is not None and flag not in set(TicketFlag):
            options = ", ".join(f.value for f in TicketFlag)
            raise table.fail("flag", f'未知标记 "{flag}"（可选: {options}）')
        if not categories and flag is None:
            raise table.fail("categories", '单张工单规则至少要有 "categories" 或 "flag" 之一')
        platforms = table.choices("platforms", Platform, required=False)
        ticket_flag = TicketFlag(flag) if flag is not None else None
        rule = TicketRule(rule_id, name, level, frozenset(categories), ticket_flag, frozenset(platforms))
    return rule, enabled
