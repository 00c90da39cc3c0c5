"""What the escalation service writes to the audit log: the steps a person takes that change who is on
the hook or how urgent it is — raising by hand, taking it, changing the level, closing, reopening —
and putting a new rules file in force.

Runs inside the service's transaction. Reasons are typed by people and may quote the buyer, so a
mainland mobile number in them is masked before it reaches the log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from dyy_desk.core.escalation_model import Escalation
from dyy_desk.core.masking import mask_phone
from dyy_desk.services.audit import append_audit
from dyy_desk.services.escalation_views import EscalationOp

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")

STEP_ACTIONS: Mapping[EscalationOp, str] = {
    EscalationOp.ACKNOWLEDGE: "escalation_acknowledged",
    EscalationOp.CHANGE_LEVEL: "escalation_level_changed",
    EscalationOp.CLOSE: "escalation_closed",
    EscalationOp.REOPEN: "escalation_reopened",
}


def redact_phones(text: str) -> str:
    """Free text for the audit log: mobile numbers masked (138****5678), the rest kept."""
    return _MOBILE.sub(lambda m: mask_phone(m.group()) or "", text.strip())


def audit_raised(conn: Connection, esc: Escalation, *, ticket_id: str, actor_id: str, now: datetime) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="escalation_raised",
        target=f"escalation:{esc.id}",
        details={"ticket_id": ticket_id, "level": esc.level.code, "reason": redact_phones(esc.reason)},
    )


def audit_step(
    conn: Connection,
    op: EscalationOp,
    before: Escalation,
    after: Escalation,
    *,
    actor_id: str,
    now: datetime,
    reason: str = "",
) -> None:
    """The entry for `op`, when it is one the log keeps (START, RESOLVE, 复盘, 回访 are not)."""
    action = STEP_ACTIONS.get(op)
    if action is None:
        return
    details: dict[str, Any] = {"level": after.level.code, "status": after.status.value}
    if op is EscalationOp.ACKNOWLEDGE:
        details["owner_id"] = after.owner_id
    elif op is EscalationOp.CHANGE_LEVEL:
        details |= {"from": before.level.code, "to": after.level.code}
    elif op is EscalationOp.CLOSE:
        details |= {"post_mortem": after.post_mortem is not None, "follow_up": after.follow_up is not None}
    if reason:
        details["reason"] = redact_phones(reason)
    append_audit(
        conn, at=now, actor_id=actor_id, action=action, target=f"escalation:{after.id}", details=details
    )


def audit_rules_imported(
    conn: Connection, *, source: str, rule_ids: list[str], actor_id: str, now: datetime
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="escalation_rules_imported",
        target="escalation_rules",
        details={"source": source, "rules": rule_ids},
    )
