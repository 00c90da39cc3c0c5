"""Escalation rules file: the shipped defaults, the schema, and located Chinese errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dyy_desk.core.escalation_model import EscalationLevel, TicketFact
from dyy_desk.core.escalation_rules import (
    GroupBy,
    SopDeadlineRule,
    TicketRule,
    WindowRule,
    parse_rules,
    split_group_key,
    ticket_key,
)
from dyy_desk.core.sop_toml import DataFileError
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus

RULES_FILE = Path(__file__).resolve().parents[2] / "resources" / "escalation_rules.toml"
SOURCE = "escalation_rules.toml"

MINIMAL = """\
version = 1

[[rules]]
id = "crisis"
kind = "window"
name = "差评集中爆发"
level = "L3"
categories = ["negative_review"]
group_by = ["shop"]
min_count = 6
window_hours = 24
"""


def _ticket(**changes: object) -> TicketFact:
    base: dict[str, object] = dict(
        id="t1",
        client_id="c1",
        shop_id="s1",
        platform=Platform.TMALL,
        category=TicketCategory.QUALITY_COMPLAINT,
        status=TicketStatus.NEW,
        created_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
    )
    base.update(changes)
    return TicketFact(**base)  # type: ignore[arg-type]


def test_shipped_rules_encode_the_playbook() -> None:
    rules = parse_rules(RULES_FILE.read_text(encoding="utf-8"), SOURCE)
    by_id = {rule.id: rule for rule in rules.rules}
    assert rules.response_windows == {
        EscalationLevel.L1: timedelta(hours=24),
        EscalationLevel.L2: timedelta(hours=4),
        EscalationLevel.L3: timedelta(hours=2),
    }
    sop = by_id["sop_deadline"]
    assert isinstance(sop, SopDeadlineRule)
    assert (sop.due_soon_level, sop.overdue_level) == (EscalationLevel.L1, EscalationLevel.L2)
    complaint = by_id["repeated_complaint"]
    assert isinstance(complaint, WindowRule)
    assert (complaint.level, complaint.min_count, complaint.window) == (
        EscalationLevel.L2,
        3,
        timedelta(days=7),
    )
    assert complaint.group_by == (GroupBy.CLIENT, GroupBy.CATEGORY, GroupBy.PRODUCT_OR_TAG)
    crisis = by_id["negative_review_crisis"]
    assert isinstance(crisis, WindowRule)
    assert crisis.categories == {TicketCategory.NEGATIVE_REVIEW}
    assert (crisis.level, crisis.min_count, crisis.window) == (EscalationLevel.L3, 6, timedelta(hours=24))
    intervention, leak = by_id["platform_intervention"], by_id["data_leak"]
    assert isinstance(intervention, TicketRule) and isinstance(leak, TicketRule)
    assert intervention.level == leak.level == EscalationLevel.L3
    assert leak.categories == {TicketCategory.DATA_LEAK}


def test_levels_default_when_omitted_and_can_be_overridden() -> None:
    rules = parse_rules(MINIMAL, SOURCE)
    assert rules.response_window(EscalationLevel.L3) == timedelta(hours=2)
    changed = parse_rules(
        MINIMAL.replace("version = 1\n", "version = 1\n[levels.L3]\nfirst_response_hours = 1.5\n"), SOURCE
    )
    assert changed.response_window(EscalationLevel.L3) == timedelta(minutes=90)
    assert changed.response_window(EscalationLevel.L1) == timedelta(hours=24)


def test_disabled_rule_is_dropped() -> None:
    rules = parse_rules(MINIMAL + "enabled = false\n", SOURCE)
    assert rules.rules == ()


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (MINIMAL + "colour = 1\n", 12, "rules[1].colour", "未知字段"),
        (MINIMAL.replace("min_count = 6", "min_count = 0"), 10, "rules[1].min_count", "正整数"),
        (MINIMAL.replace("min_count = 6", "min_count = 2.5"), 10, "rules[1].min_count", "正整数"),
        (MINIMAL.replace("min_count = 6", "min_count = true"), 10, "rules[1].min_count", "正整数"),
        (MINIMAL.replace("window_hours = 24", "window_hours = 0"), 11, "rules[1].window_hours", "大于 0"),
        (MINIMAL.replace("window_hours = 24", "window_hours = -24"), 11, "rules[1].window_hours", "大于 0"),
        (MINIMAL.replace('"negative_review"', '"bad_review"'), 8, "rules[1].categories", '"bad_review"'),
        (MINIMAL.replace('"L3"', '"L4"'), 7, "rules[1].level", "L4"),
        (MINIMAL.replace('["shop"]', '["shop", "shop"]'), 9, "rules[1].group_by", "重复"),
        (MINIMAL.replace('["shop"]', "[]"), 9, "rules[1].group_by", "非空列表"),
        (MINIMAL.replace('"window"', '"burst"'), 5, "rules[1].kind", "未知规则类型"),
        (MINIMAL.replace('name = "差评集中爆发"\n', ""), 3, "rules[1].name", "缺少必填字段"),
        (MINIMAL.replace('"crisis"', '"Crisis!"'), 4, "rules[1].id", "小写字母"),
        (MINIMAL + MINIMAL.split("\n", 2)[2], 13, "rules[2].id", "重复"),
        (MINIMAL.replace("version = 1", "version = 2"), 1, "version", "不支持的版本"),
        ("version = 1\nmode = 'x'\n", 2, "mode", "未知字段"),
        ("version = 1\n[levels.L4]\nfirst_response_hours = 1\n", 2, "levels.L4", "未知字段"),
        (
            "version = 1\n[levels.L2]\nfirst_response_hours = 0\n",
            3,
            "levels.L2.first_response_hours",
            "大于 0",
        ),
        (
            'version = 1\n[[rules]]\nid = "s"\nkind = "sop_deadline"\nname = "n"\n'
            'due_soon_level = "L2"\noverdue_level = "L1"\n',
            7,
            "rules[1].overdue_level",
            "不能低于",
        ),
        (
            'version = 1\n[[rules]]\nid = "t"\nkind = "ticket"\nname = "n"\nlevel = "L3"\n',
            2,
            "rules[1].categories",
            "至少",
        ),
        (
            'version = 1\n[[rules]]\nid = "t"\nkind = "ticket"\nname = "n"\nlevel = "L3"\nflag = "angry"\n',
            7,
            "rules[1].flag",
            "未知标记",
        ),
    ],
)
def test_bad_rules_are_refused_with_source_line_and_field(
    text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(DataFileError) as caught:
        parse_rules(text, SOURCE)
    error = caught.value
    assert (error.source, error.line, error.field) == (SOURCE, line, field)
    message = str(error)
    assert message.startswith(f"升级规则 {SOURCE} 第 {line} 行: 字段 {field}: ")
    assert words in message


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(DataFileError) as caught:
        parse_rules(MINIMAL.replace("min_count = 6", "min_count = = 6"), SOURCE)
    assert caught.value.line == 10
    assert "TOML 语法错误" in str(caught.value)


def test_refused_edit_leaves_the_rules_in_force_unchanged() -> None:
    in_force = parse_rules(MINIMAL, SOURCE)
    before = repr(in_force)
    with pytest.raises(DataFileError):
        parse_rules(MINIMAL.replace("min_count = 6", "min_count = 0"), SOURCE)
    assert repr(in_force) == before
    assert parse_rules(MINIMAL, SOURCE) == in_force


def test_group_keys_product_and_each_tag() -> None:
    rules = parse_rules(RULES_FILE.read_text(encoding="utf-8"), SOURCE)
    complaint = next(r for r in rules.rules if r.id == "repeated_complaint")
    assert isinstance(complaint, WindowRule)
    ticket = _ticket(product="P1", tags=frozenset({"起球", "色差"}))
    assert complaint.group_keys(ticket) == [
        "client=c1|category=quality_complaint|product=P1",
        "client=c1|category=quality_complaint|tag=色差",
        "client=c1|category=quality_complaint|tag=起球",
    ]
    assert complaint.group_keys(_ticket()) == []  # neither product nor tag: no "same issue" to group
    assert complaint.group_keys(_ticket(product="P1", category=TicketCategory.PRESALE)) == []


def test_platform_filter() -> None:
    rules = parse_rules(MINIMAL + 'platforms = ["pdd"]\n', SOURCE)
    crisis = rules.rules[0]
    assert isinstance(crisis, WindowRule)
    review = _ticket(category=TicketCategory.NEGATIVE_REVIEW)
    assert crisis.group_keys(review) == []
    assert crisis.group_keys(_ticket(category=TicketCategory.NEGATIVE_REVIEW, platform=Platform.PDD)) == [
        "shop=s1"
    ]


@given(st.text(min_size=1), st.text(min_size=1))
def test_group_key_parts_split_back_exactly(ticket_id: str, step_id: str) -> None:
    assert split_group_key(ticket_key(ticket_id, step_id)) == [("ticket", ticket_id), ("step", step_id)]
