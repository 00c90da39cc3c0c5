"""质检's read-only texts: the ticket timeline a reviewer scores against and an agent's result with
every deduction explained. Everything shown from the database is HTML-escaped."""

from __future__ import annotations

from html import escape

from dyy_desk.core.i18n import _
from dyy_desk.core.qa_review import DECISION_LABELS, STATE_LABELS, ReviewState
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import TicketDetail
from dyy_desk.services.qa_views import ReviewRow


def state_text(state: ReviewState) -> str:
    return _(STATE_LABELS[state])


def timeline_html(detail: TicketDetail) -> str:
    row = detail.row
    head = (
        f"<p><b>{escape(row.number)} {escape(row.subject)}</b><br>"
        f"{escape(row.client_name)} · {escape(row.shop_name)}</p>"
    )
    events = "".join(
        f"<p style='margin:0 0 6px 0'><span style='color:#666'>{format_local(e.at)} · "
        f"{escape(e.actor_name or _('系统'))}</span><br>{escape(e.text)}</p>"
        for e in detail.events
    )
    return head + (events or _("<p>该工单没有时间线记录。</p>"))


def result_html(row: ReviewRow, names: dict[str, str]) -> str:
    review = row.review
    parts = [
        _("<p><b>{title}</b> · 得分 <b>{score}</b> · {state_text}</p>").format(
            title=escape(row.ticket_number), score=review.score, state_text=state_text(review.state)
        )
    ]
    for d in review.deductions:
        parts.append(
            _("<p>扣 {points} 分 · {item}：{comment}</p>").format(
                points=d.points, item=escape(names.get(d.item_id, d.item_id)), comment=escape(d.comment)
            )
        )
    for h in review.fatal_hits:
        name = escape(names.get(h.fatal_id, h.fatal_id))
        parts.append(
            _("<p style='color:#c62828'>致命项 {name}：{comment}</p>").format(
                name=name, comment=escape(h.comment)
            )
        )
    if not review.deductions and not review.fatal_hits:
        parts.append(_("<p>没有扣分。</p>"))
    if review.appeal:
        parts.append(_("<p>申诉理由：{reason}</p>").format(reason=escape(review.appeal.reason)))
    if review.re_review:
        label = _(DECISION_LABELS[review.re_review.decision])
        parts.append(
            _("<p>复核：{label}（{comment}）</p>").format(
                label=label, comment=escape(review.re_review.comment)
            )
        )
    return "".join(parts)
