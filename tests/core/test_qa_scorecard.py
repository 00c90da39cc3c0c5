from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.qa_scorecard import Scorecard, ScorecardError, parse_scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit, ScoringError, compute_score

DEFAULT = Path(__file__).resolve().parents[2] / "resources" / "scorecards" / "default.toml"

MINIMAL = """\
id = "mini"
version = 2
name = "迷你评分表"
pass_mark = 80

[[categories]]
id = "speed"
name = "响应及时性"
points = 40

[[categories.items]]
id = "first"
name = "首次响应超时"
points = 40

[[categories]]
id = "manner"
name = "服务态度"
points = 60

[[categories.items]]
id = "polite"
name = "用语不礼貌"
points = 35

[[categories.items]]
id = "patience"
name = "缺乏耐心"
points = 25

[[fatal]]
id = "abuse"
name = "辱骂或争执"
"""


def default_card() -> Scorecard:
    return parse_scorecard(DEFAULT.read_text(encoding="utf-8"), "default.toml")


def line_of(text: str, snippet: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    return hits[occurrence - 1]


def problems_of(text: str, source: str = "bad.toml") -> list[tuple[int, str]]:
    with pytest.raises(ScorecardError) as info:
        parse_scorecard(text, source)
    assert all(p.source == source for p in info.value.problems)
    return [(p.line, p.reason) for p in info.value.problems]


def test_shipped_scorecard_validates_and_follows_the_documented_rule() -> None:
    card = default_card()
    assert (card.id, card.version, card.pass_mark) == ("default", 1, 85)
    assert [c.name for c in card.categories] == ["响应及时性", "话术规范", "问题解决", "服务态度", "流程合规"]
    assert [f.name for f in card.fatal_items] == ["泄露买家信息", "辱骂或争执", "虚假承诺", "诱导站外交易"]
    assert sum(c.points for c in card.categories) == 100
    for category in card.categories:
        assert category.items and sum(i.points for i in category.items) == category.points
        assert all(i.description and i.category_id == category.id for i in category.items)


def test_minimal_card_parses_with_lookups() -> None:
    card = parse_scorecard(MINIMAL, "mini.toml")
    assert card.item("polite") is not None and card.item("polite").points == 35  # type: ignore[union-attr]
    assert card.item("abuse") is None and card.fatal("abuse") is not None
    assert parse_scorecard(MINIMAL.replace("pass_mark = 80\n", ""), "x").pass_mark == 85


def test_items_not_adding_up_to_category_points_names_line_and_sums() -> None:
    [(line, reason)] = problems_of(MINIMAL.replace("points = 25", "points = 20"))
    assert line == line_of(MINIMAL, "points = 60")
    assert reason == "评分类别「服务态度」各评分项分值之和为 55，应等于类别分值 60"


def test_categories_not_adding_up_to_100() -> None:
    text = MINIMAL.replace(
        'points = 40\n\n[[categories.items]]\nid = "first"',
        'points = 30\n\n[[categories.items]]\nid = "first"',
    )
    text = text.replace('name = "首次响应超时"\npoints = 40', 'name = "首次响应超时"\npoints = 30')
    [(line, reason)] = problems_of(text)
    assert line == line_of(text, "[[categories]]")
    assert reason == "各评分类别分值之和为 90，应等于满分 100"


def test_message_format_names_source_and_line() -> None:
    with pytest.raises(ScorecardError) as info:
        parse_scorecard(MINIMAL.replace('id = "polite"', 'id = "first"'), "mini.toml")
    assert str(info.value) == '评分表 mini.toml 第 22 行: 评分项 id "first" 重复（第 12 行已使用）'
    assert info.value.problems[0].field == "id"


def test_empty_category_fatal_with_points_and_unknown_field() -> None:
    first_items = '[[categories.items]]\nid = "first"\nname = "首次响应超时"\npoints = 40\n\n'
    assert first_items in MINIMAL
    text = MINIMAL.replace(first_items, "")
    text = text.replace('name = "辱骂或争执"', 'name = "辱骂或争执"\npoints = 5\nweight = 1')
    found = problems_of(text)
    reasons = " | ".join(reason for _, reason in found)
    assert "响应及时性" in reasons and "没有评分项" in reasons
    assert any("不计分值" in r and line == line_of(text, "points = 5") for line, r in found)
    assert any('未知字段 "weight"' in r and line == line_of(text, "weight = 1") for line, r in found)


def test_duplicate_ids_across_items_and_fatal_items() -> None:
    found = problems_of(MINIMAL.replace('id = "abuse"', 'id = "patience"'))
    assert found == [(32, '致命项 id "patience" 重复（第 27 行已使用）')]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("version = 2", 'version = "二"', "version"),
        ("pass_mark = 80", "pass_mark = 120", "pass_mark"),
        ('id = "mini"', 'id = "Mini Card"', "小写字母"),
        ("points = 35", "points = 0", "points"),
        ("points = 35", "points = true", "points"),
        ('name = "缺乏耐心"', 'name = ""', "name"),
    ],
)
def test_field_errors_point_at_their_line(old: str, new: str, fragment: str) -> None:
    text = MINIMAL.replace(old, new, 1)
    found = problems_of(text)
    assert any(line == line_of(text, new or old) and fragment in reason for line, reason in found), found


def test_missing_categories_and_syntax_error() -> None:
    head = MINIMAL.split("[[categories]]")[0]
    assert any("categories" in r for _, r in problems_of(head))
    [(line, reason)] = problems_of(MINIMAL.replace("points = 35", "points = = 35"))
    assert line == 24 and "TOML 语法错误" in reason


def test_scoring_deducts_and_passes_at_the_mark() -> None:
    card = default_card()
    result = compute_score(
        card, [Deduction("wording", 6, "说“自己看”"), Deduction("closure", 9, "未告知进度")], []
    )
    assert (result.score, result.passed, result.fatal) == (85, True, False)
    result = compute_score(
        card,
        [
            Deduction("closure", 10, "未闭环"),
            Deduction("empathy", 6 - 1, "未致歉"),
            Deduction("patience", 1, "催促"),
        ],
        [],
    )
    assert (result.score, result.passed) == (84, False)
    assert (result.scorecard_id, result.scorecard_version) == ("default", 1)


def test_fatal_hit_zeroes_score_even_without_deductions() -> None:
    result = compute_score(default_card(), [], [FatalHit("off_platform_trade", "发送个人微信号")])
    assert (result.score, result.passed, result.fatal, result.deducted) == (0, False, True, 0)


@pytest.mark.parametrize(
    ("deductions", "hits", "fragment"),
    [
        ([Deduction("wording", 4, "a"), Deduction("wording", 3, "b")], [], "超过该项上限 6 分"),
        ([Deduction("wording", 2, "  ")], [], "必须填写说明"),
        ([Deduction("nope", 2, "x")], [], '没有评分项 "nope"'),
        ([Deduction("false_promise", 2, "x")], [], "是致命项"),
        ([Deduction("wording", 0, "x")], [], "正整数"),
        ([], [FatalHit("abuse_or_quarrel", "")], "必须填写说明"),
        ([], [FatalHit("abuse_or_quarrel", "a"), FatalHit("abuse_or_quarrel", "b")], "重复"),
        ([], [FatalHit("wording", "x")], '没有致命项 "wording"'),
    ],
)
def test_bad_marks_are_refused(deductions: list[Deduction], hits: list[FatalHit], fragment: str) -> None:
    with pytest.raises(ScoringError, match=fragment):
        compute_score(default_card(), deductions, hits)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_valid_deductions_score_100_minus_sum_and_never_below_zero(data: st.DataObject) -> None:
    card = default_card()
    deductions = []
    for item in data.draw(st.lists(st.sampled_from(card.items), unique=True)):
        points = data.draw(st.integers(1, item.points))
        deductions.append(Deduction(item.id, points, "扣分说明"))
    result = compute_score(card, deductions, [])
    assert result.score == 100 - sum(d.points for d in deductions) >= 0
    assert result.passed == (result.score >= 85)
