"""SOP templates as data: after-sales type, platform scope, dated version, steps with deadline rules.

Platform rules change often and differ by category, so every number lives in resources/sop/*.toml with
a `verified` flag; the UI shows unverified values as such and supervisors edit the files.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from dyy_desk.core.sop_toml import Path, TomlSource
from dyy_desk.core.types import Platform

MAX_DEADLINE_HOURS = 720  # 30 days: longer is a typo (hours written as minutes), not a rule
_STEP_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9_.-]*$")
CONSEQUENCE_PLACEHOLDERS = frozenset({"amount"})
E = TypeVar("E", bound=StrEnum)


class AfterSalesType(StrEnum):
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REFUND_ONLY_NOT_SHIPPED = "refund_only_not_shipped"
    REFUND_ONLY_SHIPPED = "refund_only_shipped"
    RESHIP = "reship"
    MISSING_ITEM = "missing_item"
    WRONG_ITEM = "wrong_item"
    REFUSED_DELIVERY = "refused_delivery"
    PRICE_PROTECTION = "price_protection"


AFTER_SALES_TYPE_LABELS: dict[AfterSalesType, str] = {
    AfterSalesType.RETURN_REFUND: "退货退款",
    AfterSalesType.EXCHANGE: "换货",
    AfterSalesType.REFUND_ONLY_NOT_SHIPPED: "仅退款(未发货)",
    AfterSalesType.REFUND_ONLY_SHIPPED: "仅退款(已发货)",
    AfterSalesType.RESHIP: "补发",
    AfterSalesType.MISSING_ITEM: "漏发",
    AfterSalesType.WRONG_ITEM: "错发",
    AfterSalesType.REFUSED_DELIVERY: "拒收/退回",
    AfterSalesType.PRICE_PROTECTION: "价保",
}


class AnchorEvent(StrEnum):
    """Events a deadline counts from; the agent records when each really happened."""

    TICKET_CREATED = "ticket_created"
    APPLICATION_SUBMITTED = "application_submitted"
    MERCHANT_AGREED = "merchant_agreed"
    ORDER_SHIPPED = "order_shipped"
    BUYER_SHIPPED = "buyer_shipped"
    RETURN_RECEIVED = "return_received"
    REPLACEMENT_SHIPPED = "replacement_shipped"


ANCHOR_LABELS: dict[AnchorEvent, str] = {
    AnchorEvent.TICKET_CREATED: "工单创建",
    AnchorEvent.APPLICATION_SUBMITTED: "申请提交",
    AnchorEvent.MERCHANT_AGREED: "商家同意",
    AnchorEvent.ORDER_SHIPPED: "商家发货",
    AnchorEvent.BUYER_SHIPPED: "买家寄回",
    AnchorEvent.RETURN_RECEIVED: "退货签收",
    AnchorEvent.REPLACEMENT_SHIPPED: "补发/换货寄出",
}


class DeadlineCounting(StrEnum):
    CALENDAR = "calendar"
    BUSINESS = "business"


@dataclass(frozen=True)
class DeadlineRule:
    hours: float
    anchor: AnchorEvent
    counting: DeadlineCounting = DeadlineCounting.CALENDAR
    verified: bool = False
    consequence: str = ""
    basis: str = ""  # where the number comes from, shown next to the countdown

    def consequence_text(self, amount: str | None = None) -> str:
        """ "逾期将自动退款 {amount}" with the case's amount, or a visible gap when it is unknown."""
        return self.consequence.replace("{amount}", amount if amount else "[金额]")


@dataclass(frozen=True)
class SopStep:
    id: str
    title: str
    instructions: str
    required: bool = True
    deadline: DeadlineRule | None = None


@dataclass(frozen=True)
class SopTemplate:
    """`platforms` empty means the default for every platform."""

    id: str
    name: str
    after_sales_type: AfterSalesType
    platforms: frozenset[Platform]
    version: int
    effective_date: date
    steps: tuple[SopStep, ...]
    source: str = ""

    def step(self, step_id: str) -> SopStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


_TEMPLATE_KEYS = frozenset(
    {"id", "name", "after_sales_type", "platforms", "version", "effective_date", "steps"}
)
_STEP_KEYS = frozenset({"id", "title", "instructions", "required", "deadline"})
_DEADLINE_KEYS = frozenset({"hours", "anchor", "counting", "verified", "consequence", "basis"})


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(e.value for e in enum)


class _Reader:
    """Typed access to one table of a TomlSource; every failure is a located DataFileError."""

    def __init__(self, src: TomlSource, table: dict[str, Any], path: Path, allowed: frozenset[str]) -> None:
        if not isinstance(table, dict):
            raise src.error(path, "应为表（[...] 或 {...}）")
        src.check_keys(table, path, allowed)
        self.src, self.table, self.path = src, table, path

    def raw(self, key: str, required: bool) -> Any:
        if key not in self.table and required:
            raise self.src.error((*self.path, key), f'缺少必填字段 "{key}"')
        return self.table.get(key)

    def text(self, key: str, *, required: bool = True, pattern: re.Pattern[str] | None = None) -> str:
        value = self.raw(key, required)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.src.error((*self.path, key), "应为非空文字")
        if pattern is not None and not pattern.match(value):
            raise self.src.error((*self.path, key), f'"{value}" 只能用小写字母、数字和下划线，且以字母开头')
        return value.strip()

    def flag(self, key: str, *, default: bool | None = None) -> bool:
        value = self.raw(key, default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise self.src.error((*self.path, key), "应为 true 或 false")
        return value

    def choice(self, key: str, enum: type[E], what: str, *, default: E | None = None) -> E:
        value = self.raw(key, default is None)
        if value is None and default is not None:
            return default
        try:
            return enum(value)
        except ValueError:
            raise self.src.error(
                (*self.path, key), f'未知{what} "{value}"（可选: {_choices(enum)}）'
            ) from None

    def hours(self, key: str) -> float:
        value = self.raw(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.src.error((*self.path, key), "应为小时数，例如 48")
        if not 0 < value <= MAX_DEADLINE_HOURS:
            raise self.src.error(
                (*self.path, key),
                f"时长必须大于 0 且不超过 {MAX_DEADLINE_HOURS} 小时（30 天），实际为 {value}",
            )
        return float(value)

    def positive_int(self, key: str) -> int:
        value = self.raw(key, True)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.src.error((*self.path, key), f"应为正整数，实际为 {value!r}")
        return value

    def day(self, key: str) -> date:
        value = self.raw(key, True)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.src.error((*self.path, key), f'"{value}" 不是日期，应写作 2026-01-01') from None


def _consequence(reader: _Reader) -> str:
    text = reader.text("consequence", required=False)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise reader.src.error((*reader.path, "consequence"), "花括号不成对；占位符写作 {amount}") from None
    if unknown := names - CONSEQUENCE_PLACEHOLDERS:
        raise reader.src.error(
            (*reader.path, "consequence"),
            f"未知占位符 {{{sorted(unknown)[0]}}}（可用: {{amount}}）",
        )
    return text


def _deadline(src: TomlSource, table: Any, path: Path) -> DeadlineRule:
    r = _Reader(src, table, path, _DEADLINE_KEYS)
    return DeadlineRule(
        hours=r.hours("hours"),
        anchor=r.choice("anchor", AnchorEvent, "锚点事件"),
        counting=r.choice("counting", DeadlineCounting, "计时方式", default=DeadlineCounting.CALENDAR),
        verified=r.flag("verified"),
        consequence=_consequence(r),
        basis=r.text("basis", required=False),
    )


def _step(src: TomlSource, table: Any, path: Path) -> SopStep:
    r = _Reader(src, table, path, _STEP_KEYS)
    return SopStep(
        id=r.text("id", pattern=_STEP_ID),
        title=r.text("title"),
        instructions=r.text("instructions"),
        required=r.flag("required", default=True),
        deadline=_deadline(src, table["deadline"], (*path, "deadline")) if "deadline" in table else None,
    )


def _platforms(src: TomlSource, value: Any) -> frozenset[Platform]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not value:
        raise src.error(("platforms",), '应为平台列表，例如 ["taobao", "tmall"]；适用所有平台请删除此字段')
    out = set()
    for item in value:
        try:
            out.add(Platform(item))
        except ValueError:
            raise src.error(("platforms",), f'未知平台 "{item}"（可选: {_choices(Platform)}）') from None
    return frozenset(out)


def parse_sop_template(text: str, source: str) -> SopTemplate:
    """One template from TOML text; `source` (the file name) appears in every error."""
    src = TomlSource(text, source, kind="模板")
    r = _Reader(src, src.data, (), _TEMPLATE_KEYS)
    template_id = r.text("id", pattern=_TEMPLATE_ID)
    name = r.text("name")
    after_sales_type = r.choice("after_sales_type", AfterSalesType, "售后类型")
    platforms = _platforms(src, src.data.get("platforms"))
    version = r.positive_int("version")
    effective_date = r.day("effective_date")
    raw_steps = r.raw("steps", True)
    if not isinstance(raw_steps, list) or not raw_steps:
        raise src.error(("steps",), "至少需要一个步骤（[[steps]]）")
    steps: list[SopStep] = []
    for n, raw in enumerate(raw_steps):
        step = _step(src, raw, ("steps", n))
        if any(s.id == step.id for s in steps):
            raise src.error(("steps", n, "id"), f'步骤 id "{step.id}" 重复')
        steps.append(step)
    return SopTemplate(
        template_id, name, after_sales_type, platforms, version, effective_date, tuple(steps), source
    )
