"""The rules in force: the newest imported rules text, else resources/escalation_rules.toml.

An import is validated completely before anything is stored (the core schema plus the checks below),
so a bad file is refused with a located message and the previous rules stay in force.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select

from dyy_desk.core.escalation_model import EscalationLevel
from dyy_desk.core.escalation_rules import FILE_KIND, RuleSet, WindowRule, parse_rules
from dyy_desk.core.ids import new_id
from dyy_desk.core.sop_toml import DataFileError, TomlSource
from dyy_desk.db.repos.escalation_queries import rule_sets
from dyy_desk.infra.paths import read_resource_text

BUNDLED = "escalation_rules.toml"
MAX_WINDOW = timedelta(days=366)
MAX_RESPONSE = timedelta(days=30)
MAX_COUNT = 10_000
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveRules:
    rules: RuleSet
    source: str
    imported_at: datetime | None
    imported_by: str | None


def validate(text: str, source: str) -> RuleSet:
    """parse_rules, then thresholds no team could mean; raises DataFileError naming line and field."""
    rules = parse_rules(text, source)
    src = TomlSource(text, source, kind=FILE_KIND)
    raw_rules = src.data.get("rules", [])
    positions = {raw.get("id"): i for i, raw in enumerate(raw_rules) if isinstance(raw, dict)}
    for rule in rules.rules:
        if not isinstance(rule, WindowRule):
            continue
        path: tuple[str | int, ...] = ("rules", positions[rule.id])
        if rule.window > MAX_WINDOW:
            raise src.error((*path, "window_hours"), f"时间窗不能超过 {MAX_WINDOW.days} 天")
        if rule.min_count > MAX_COUNT:
            raise src.error((*path, "min_count"), f"阈值不能超过 {MAX_COUNT} 张")
    windows = rules.response_windows
    for level in EscalationLevel:
        if windows[level] > MAX_RESPONSE:
            raise src.error(
                ("levels", level.code, "first_response_hours"), f"首次响应时限不能超过 {MAX_RESPONSE.days} 天"
            )
    for lower, higher in ((EscalationLevel.L1, EscalationLevel.L2), (EscalationLevel.L2, EscalationLevel.L3)):
        if windows[higher] > windows[lower]:
            raise src.error(
                ("levels", higher.code, "first_response_hours"),
                f"{higher.code} 更紧急，首次响应时限不能长于 {lower.code}（{_hours(windows[lower])} 小时）",
            )
    return rules


def _hours(window: timedelta) -> str:
    return f"{window.total_seconds() / 3600:g}"


def load_active(conn: Connection) -> ActiveRules:
    """Newest stored rules that still parse (a synced set from a newer app may not), else the bundled file."""
    for row in conn.execute(
        select(rule_sets)
        .where(rule_sets.c.deleted.is_(False))
        .order_by(rule_sets.c.imported_at.desc(), rule_sets.c.id.desc())
    ):
        try:
            return ActiveRules(validate(row.text, row.source), row.source, row.imported_at, row.imported_by)
        except DataFileError:
            _log.warning("stored escalation rules %s do not parse; trying an older set", row.source)
    return ActiveRules(validate(read_resource_text(BUNDLED), BUNDLED), BUNDLED, None, None)


def store(
    conn: Connection, *, text: str, source: str, actor_id: str, now: datetime, origin: str
) -> ActiveRules:
    rules = validate(text, source)
    conn.execute(
        insert(rule_sets).values(
            id=new_id(),
            source=source,
            text=text,
            imported_by=actor_id,
            imported_at=now,
            origin=origin,
            version="",
            deleted=False,
        )
    )
    return ActiveRules(rules, source, now, actor_id)
