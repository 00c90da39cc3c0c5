from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from dyy_desk.core.sop_registry import SopRegistry, load_sop_templates
from dyy_desk.core.sop_template import (
    AfterSalesType,
    AnchorEvent,
    DeadlineCounting,
    parse_sop_template,
)
from dyy_desk.core.sop_toml import DataFileError, index_lines
from dyy_desk.core.types import Platform

SOP_DIR = Path(__file__).resolve().parents[2] / "resources" / "sop"

BASE = '''id = "return_refund.test"
name = "测试模板"
after_sales_type = "return_refund"
version = 1
effective_date = 2026-01-01

[[steps]]
id = "review"
title = "审核"
instructions = """
第一行 id = "not_a_key"
第二行"""
[steps.deadline]
hours = 48
anchor = "application_submitted"
verified = true
consequence = "逾期将自动退款 {amount}"

[[steps]]
id = "refund"
title = "退款"
instructions = "确认收货后退款"
deadline = { hours = 240, anchor = "buyer_shipped", verified = false }
'''


def shipped_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SOP_DIR.glob("*.toml"))}


def test_base_template_parses() -> None:
    t = parse_sop_template(BASE, "base.toml")
    assert (t.id, t.version, t.effective_date, t.platforms) == (
        "return_refund.test",
        1,
        date(2026, 1, 1),
        frozenset(),
    )
    assert [s.id for s in t.steps] == ["review", "refund"]
    review = t.steps[0]
    assert review.instructions == '第一行 id = "not_a_key"\n第二行'
    assert review.required
    assert review.deadline is not None
    assert review.deadline.hours == 48 and review.deadline.anchor is AnchorEvent.APPLICATION_SUBMITTED
    assert review.deadline.counting is DeadlineCounting.CALENDAR and review.deadline.verified
    assert review.deadline.consequence_text("¥128.00") == "逾期将自动退款 ¥128.00"
    assert review.deadline.consequence_text(None) == "逾期将自动退款 [金额]"
    refund = t.step("refund")
    assert refund.deadline is not None and not refund.deadline.verified
    assert refund.deadline.anchor is AnchorEvent.BUYER_SHIPPED


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "fragment"),
    [
        ('anchor = "application_submitted"', 'anchor = "paid"', 15, "steps[1].deadline.anchor", "未知锚点"),
        ('anchor = "buyer_shipped"', 'anchor = "shipped"', 23, "steps[2].deadline.anchor", '"shipped"'),
        ("hours = 48", "hours = -4", 14, "steps[1].deadline.hours", "必须大于 0"),
        ("hours = 48", "hours = 10000", 14, "steps[1].deadline.hours", "不超过 720"),
        ("hours = 48", "hours = 0", 14, "steps[1].deadline.hours", "必须大于 0"),
        ("hours = 48", 'hours = "48"', 14, "steps[1].deadline.hours", "应为小时数"),
        ("hours = 48", "hours = true", 14, "steps[1].deadline.hours", "应为小时数"),
        ('id = "refund"', 'id = "review"', 20, "steps[2].id", '步骤 id "review" 重复'),
        ('title = "退款"\n', "", 19, "steps[2].title", '缺少必填字段 "title"'),
        ('title = "退款"', 'titel = "退款"', 21, "steps[2].titel", '未知字段 "titel"'),
        ("verified = true", "verifed = true", 16, "steps[1].deadline.verifed", '未知字段 "verifed"'),
        (", verified = false }", " }", 23, "steps[2].deadline.verified", '缺少必填字段 "verified"'),
        ("verified = true", 'verified = "是"', 16, "steps[1].deadline.verified", "true 或 false"),
        ("hours = 48", "hours = 48 小时", 14, None, "TOML 语法错误"),
        ('"return_refund"', '"return"', 3, "after_sales_type", "未知售后类型"),
        ("version = 1", "version = 0", 4, "version", "正整数"),
        ("effective_date = 2026-01-01", 'effective_date = "明年"', 5, "effective_date", "不是日期"),
        ('id = "review"', 'id = "Review"', 8, "steps[1].id", "小写字母"),
        ("{amount}", "{amout}", 17, "steps[1].deadline.consequence", "未知占位符 {amout}"),
        ("{amount}", "{amount", 17, "steps[1].deadline.consequence", "花括号"),
        ('anchor = "application_submitted"', 'anchor = "application_submitted"\ncounting = "workdays"', 16,
         "steps[1].deadline.counting", "未知计时方式"),
        ("version = 1", 'version = 1\nplatforms = ["weixin"]', 5, "platforms", '未知平台 "weixin"'),
        ("version = 1", "version = 1\nowner = 3", 5, "owner", '未知字段 "owner"'),
        ('title = "审核"', 'title = "  "', 9, "steps[1].title", "非空文字"),
    ],
)  # fmt: skip
def test_bad_template_errors_name_file_line_field_and_reason(
    old: str, new: str, line: int, field: str | None, fragment: str
) -> None:
    assert old in BASE
    with pytest.raises(DataFileError) as info:
        parse_sop_template(BASE.replace(old, new, 1), "return_refund.toml")
    error = info.value
    assert (error.source, error.line, error.field) == ("return_refund.toml", line, field)
    assert fragment in str(error)
    assert str(error).startswith(f"模板 return_refund.toml 第 {line} 行")


def test_missing_top_level_field_still_names_file_and_field() -> None:
    with pytest.raises(DataFileError, match=re.escape('模板 t.toml: 字段 name: 缺少必填字段 "name"')):
        parse_sop_template(BASE.replace('name = "测试模板"\n', ""), "t.toml")


def test_template_without_steps_is_refused() -> None:
    with pytest.raises(DataFileError, match='缺少必填字段 "steps"'):
        parse_sop_template(BASE.split("[[steps]]")[0], "t.toml")
    with pytest.raises(DataFileError, match=re.escape("第 7 行: 字段 steps: 至少需要一个步骤")):
        parse_sop_template(BASE.split("[[steps]]")[0] + "steps = []\n", "t.toml")


def test_line_index_handles_nested_tables_dotted_keys_and_multiline_arrays() -> None:
    text = """a = 1
b.c = [
  "x = 1",
  2,
]
[[t]]
k = 1
[[t]]
"quoted key" = 2
[t.sub]
z = { p = 1, q = 2 }
notes = '''
fake = 1'''
after = 3
"""
    lines = index_lines(text)
    assert ("t", 1, "sub", "fake") not in lines
    assert lines[("t", 1, "sub", "notes")] == 12 and lines[("t", 1, "sub", "after")] == 14
    assert lines[("a",)] == 1 and lines[("b", "c")] == 2
    assert ("x",) not in lines
    assert lines[("t", 0)] == 6 and lines[("t", 0, "k")] == 7
    assert lines[("t", 1, "quoted key")] == 9
    assert lines[("t", 1, "sub")] == 10 and lines[("t", 1, "sub", "z", "q")] == 11


# --- shipped templates -------------------------------------------------------------------------


def test_every_shipped_template_validates_and_each_type_has_a_default() -> None:
    registry = load_sop_templates(shipped_texts())
    assert len(registry.templates) == len(shipped_texts()) >= len(AfterSalesType)
    for kind in AfterSalesType:
        for platform in Platform:
            picked = registry.pick(kind, platform, date(2026, 11, 23))
            assert picked is not None and picked.after_sales_type is kind
            assert not picked.platforms or platform in picked.platforms


def _main_deadline(registry: SopRegistry, kind: AfterSalesType, platform: Platform) -> tuple[float, bool]:
    template = registry.pick(kind, platform, date(2026, 11, 23))
    assert template is not None
    rules = [
        s.deadline
        for s in template.steps
        if s.deadline and s.deadline.anchor is AnchorEvent.APPLICATION_SUBMITTED
    ]
    longest = max(rules, key=lambda r: r.hours)
    return longest.hours, longest.verified


@pytest.mark.parametrize(
    ("kind", "platform", "hours", "verified"),
    [
        (AfterSalesType.RETURN_REFUND, Platform.WECHAT, 48, True),
        (AfterSalesType.REFUND_ONLY_NOT_SHIPPED, Platform.WECHAT, 48, True),
        (AfterSalesType.REFUND_ONLY_SHIPPED, Platform.WECHAT, 48, True),
        (AfterSalesType.REFUND_ONLY_NOT_SHIPPED, Platform.TAOBAO, 48, False),
        (AfterSalesType.REFUND_ONLY_SHIPPED, Platform.TMALL, 120, False),
        (AfterSalesType.RETURN_REFUND, Platform.TAOBAO, 120, False),
        (AfterSalesType.RETURN_REFUND, Platform.PDD, 48, False),
        (AfterSalesType.REFUND_ONLY_NOT_SHIPPED, Platform.DOUYIN, 24, False),
        (AfterSalesType.EXCHANGE, Platform.DOUYIN, 48, False),
    ],
)
def test_platform_templates_follow_the_rules_document(
    kind: AfterSalesType, platform: Platform, hours: float, verified: bool
) -> None:
    assert _main_deadline(load_sop_templates(shipped_texts()), kind, platform) == (hours, verified)


# --- registry ----------------------------------------------------------------------------------


def _variant(text: str, **replacements: str) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new, 1)
    return text


def _picked(registry: SopRegistry, platform: Platform, on: date) -> tuple[str, int] | None:
    template = registry.pick(AfterSalesType.RETURN_REFUND, platform, on)
    return None if template is None else (template.id, template.version)


def test_registry_prefers_platform_then_latest_effective_version() -> None:
    v2 = _variant(
        BASE, **{"version = 1": "version = 2", "2026-01-01": "2026-06-01", "测试模板": "测试模板 v2"}
    )
    wechat = _variant(
        BASE,
        **{
            '"return_refund.test"': '"return_refund.wx"',
            "version = 1": 'version = 1\nplatforms = ["wechat"]',
        },
    )
    registry = load_sop_templates({"a.toml": BASE, "b.toml": v2, "c.toml": wechat})
    assert _picked(registry, Platform.JD, date(2026, 5, 31)) == ("return_refund.test", 1)
    assert _picked(registry, Platform.JD, date(2026, 6, 1)) == ("return_refund.test", 2)
    assert _picked(registry, Platform.WECHAT, date(2026, 7, 1)) == ("return_refund.wx", 1)
    assert _picked(registry, Platform.JD, date(2025, 12, 31)) is None
    assert registry.pick(AfterSalesType.EXCHANGE, Platform.JD, date(2026, 7, 1)) is None
    assert registry.get("return_refund.test", 2).name == "测试模板 v2"
    with pytest.raises(KeyError):
        registry.get("return_refund.test", 3)


def test_platform_template_not_yet_effective_falls_back_to_default() -> None:
    wechat = _variant(BASE, **{'"return_refund.test"': '"return_refund.wx"', "2026-01-01": "2026-09-01",
                               "version = 1": 'version = 1\nplatforms = ["wechat"]'})  # fmt: skip
    registry = load_sop_templates({"a.toml": BASE, "c.toml": wechat})
    assert _picked(registry, Platform.WECHAT, date(2026, 8, 31)) == ("return_refund.test", 1)


@pytest.mark.parametrize(
    ("second", "fragment"),
    [
        (BASE, '模板 "return_refund.test" 第 1 版已在 a.toml 中定义'),
        (_variant(BASE, **{'"return_refund.test"': '"return_refund.other"'}), "生效日期相同"),
        (
            _variant(BASE, **{"version = 1": 'version = 2\nplatforms = ["jd"]'}),
            "各版本必须是同一售后类型和平台",
        ),
    ],
)
def test_registry_refuses_clashing_templates(second: str, fragment: str) -> None:
    with pytest.raises(DataFileError) as info:
        load_sop_templates({"a.toml": BASE, "b.toml": second})
    assert info.value.source == "b.toml" and info.value.line == 1
    assert fragment in str(info.value)


def test_loader_reports_the_broken_file() -> None:
    texts = shipped_texts() | {"zz_broken.toml": BASE.replace("hours = 48", "hours = -1")}
    with pytest.raises(DataFileError, match=re.escape("zz_broken.toml 第 14 行")):
        load_sop_templates(texts)


def test_templates_compare_by_value() -> None:
    a = parse_sop_template(BASE, "a.toml")
    assert a == parse_sop_template(BASE, "a.toml")
    assert replace(a, version=2) != a
