"""Scorecard versions in use: the exact TOML text of every version is kept in `qa_scorecard`.

A review stores the scorecard id + version it was scored with; its marks are always checked against
the stored text of that version, so editing resources/scorecards/default.toml (with a new version)
never rewrites an old score. Changing a template's content without raising its version is refused.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection, insert, select

from dyy_desk.core.qa_scorecard import Scorecard, ScorecardError, parse_scorecard
from dyy_desk.infra.paths import read_resource_text
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.qa_store import scorecards_t

DEFAULT_SCORECARD = "default.toml"

_cache: dict[tuple[str, int], Scorecard] = {}
_cache_lock = threading.Lock()


def parse_or_explain(text: str, source: str) -> Scorecard:
    """ScorecardError (all problems, with lines) becomes a ServiceError the UI shows as is."""
    try:
        return parse_scorecard(text, source)
    except ScorecardError as exc:
        raise ServiceError(f"评分表有误，未保存任何内容：\n{exc}") from exc


def resource_scorecard(name: str = DEFAULT_SCORECARD) -> tuple[Scorecard, str]:
    text = read_resource_text("scorecards", name)
    return parse_or_explain(text, name), text


def stored_card(conn: Connection, scorecard_id: str, version: int) -> Scorecard:
    key = (scorecard_id, version)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    row = (
        conn.execute(
            select(scorecards_t.c.text, scorecards_t.c.source).where(
                scorecards_t.c.scorecard_id == scorecard_id, scorecards_t.c.scorecard_version == version
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"评分表 {scorecard_id} v{version} 未保存在工作区中")
    card = parse_or_explain(row["text"], row["source"])
    with _cache_lock:
        _cache[key] = card
    return card


def ensure_stored(
    conn: Connection,
    card: Scorecard,
    *,
    text: str,
    source: str,
    actor_id: str | None,
    now: datetime,
    origin: str,
) -> bool:
    """Keep this version's text; True when it was new. Same version with other content is refused."""
    existing = conn.execute(
        select(scorecards_t.c.text).where(
            scorecards_t.c.scorecard_id == card.id, scorecards_t.c.scorecard_version == card.version
        )
    ).scalar()
    if existing is not None:
        if parse_scorecard(existing, source) != card:
            raise ServiceError(
                f"评分表 {card.id} v{card.version} 已在使用，但内容与已保存的版本不同。"
                f"请把 {source} 中的 version 加 1 后再导入，已有质检记录保持原评分表不变。"
            )
        return False
    conn.execute(
        insert(scorecards_t).values(
            scorecard_id=card.id,
            scorecard_version=card.version,
            name=card.name,
            source=source,
            text=text,
            installed_by=actor_id,
            installed_at=now,
            origin=origin,
            version="",
            deleted=False,
        )
    )
    return True


def active_card(conn: Connection, *, now: datetime, origin: str) -> Scorecard:
    """The newest version of the default scorecard: the bundled file or a version a supervisor imported."""
    bundled, text = resource_scorecard()
    ensure_stored(conn, bundled, text=text, source=DEFAULT_SCORECARD, actor_id=None, now=now, origin=origin)
    newest = conn.execute(
        select(scorecards_t.c.scorecard_version)
        .where(scorecards_t.c.scorecard_id == bundled.id, scorecards_t.c.deleted.is_(False))
        .order_by(scorecards_t.c.scorecard_version.desc())
        .limit(1)
    ).scalar_one()
    return stored_card(conn, bundled.id, int(newest))
