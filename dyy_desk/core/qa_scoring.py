"""Scoring one review against a scorecard: 100 minus deductions, 0 on any fatal hit.

Marks are checked against the exact template version they are scored with; a review stores that
id + version (see qa_review) so a later edit of the template never rewrites an old score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dyy_desk.core.qa_scorecard import TOTAL_POINTS, Scorecard


@dataclass(frozen=True)
class Deduction:
    """One incident: `points` taken off `item_id`, with the reviewer's evidence in `comment`."""

    item_id: str
    points: int
    comment: str


@dataclass(frozen=True)
class FatalHit:
    fatal_id: str
    comment: str


@dataclass(frozen=True)
class ScoreResult:
    scorecard_id: str
    scorecard_version: int
    score: int
    passed: bool
    deducted: int  # sum of deductions, also reported when a fatal hit zeroes the score
    fatal: bool


class ScoringError(ValueError):
    """Marks that do not fit the scorecard; the message lists every problem in Chinese."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("；".join(problems))


def check_marks(card: Scorecard, deductions: Sequence[Deduction], fatal_hits: Sequence[FatalHit]) -> None:
    problems: list[str] = []
    per_item: dict[str, int] = defaultdict(int)
    for deduction in deductions:
        item = card.item(deduction.item_id)
        if item is None:
            if card.fatal(deduction.item_id) is not None:
                problems.append(f'"{deduction.item_id}" 是致命项，请记为致命项命中而不是扣分')
            else:
                problems.append(f'评分表 {card.id} v{card.version} 中没有评分项 "{deduction.item_id}"')
            continue
        if (
            isinstance(deduction.points, bool)
            or not isinstance(deduction.points, int)
            or deduction.points < 1
        ):
            problems.append(f"评分项「{item.name}」的扣分必须是正整数（当前 {deduction.points!r}）")
            continue
        if not deduction.comment.strip():
            problems.append(f"评分项「{item.name}」扣分必须填写说明")
        per_item[item.id] += deduction.points
    for item_id, total in per_item.items():
        item = card.item(item_id)
        if item is not None and total > item.points:
            problems.append(f"评分项「{item.name}」累计扣 {total} 分，超过该项上限 {item.points} 分")
    seen: set[str] = set()
    for hit in fatal_hits:
        fatal = card.fatal(hit.fatal_id)
        if fatal is None:
            problems.append(f'评分表 {card.id} v{card.version} 中没有致命项 "{hit.fatal_id}"')
            continue
        if fatal.id in seen:
            problems.append(f"致命项「{fatal.name}」重复记录")
        seen.add(fatal.id)
        if not hit.comment.strip():
            problems.append(f"致命项「{fatal.name}」必须填写说明（证据）")
    if problems:
        raise ScoringError(problems)


def compute_score(
    card: Scorecard, deductions: Sequence[Deduction], fatal_hits: Sequence[FatalHit]
) -> ScoreResult:
    check_marks(card, deductions, fatal_hits)
    deducted = sum(d.points for d in deductions)
    fatal = bool(fatal_hits)
    score = 0 if fatal else TOTAL_POINTS - deducted
    return ScoreResult(card.id, card.version, score, score >= card.pass_mark and not fatal, deducted, fatal)
