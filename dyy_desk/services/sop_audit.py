"""What SOP work writes to the audit log: the team's templates and working hours, and on a ticket who
moved a clock (a platform-shown or manual deadline) and who skipped a required step, and why.

Runs inside the caller's transaction. A skip reason is typed by an agent, so a mobile number in it is
masked (the same rule the escalation log uses).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from dyy_desk.core.sop_checklist import DeadlineSource, EnteredDeadline
from dyy_desk.core.sop_template import SopTemplate
from dyy_desk.services.audit import append_audit
from dyy_desk.services.escalation_audit import redact_phones


def audit_template_imported(
    conn: Connection, template: SopTemplate, *, source: str, actor_id: str | None, now: datetime
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="sop_template_imported",
        target=f"sop_template:{template.id}:v{template.version}",
        details={
            "template_id": template.id,
            "version": template.version,
            "name": template.name,
            "source": source,
            "effective_date": template.effective_date,
        },
    )


def audit_business_hours(
    conn: Connection, *, old_text: str | None, new_text: str, actor_id: str | None, now: datetime
) -> None:
    """The whole schedule text before and after: short, and the only way to see what changed."""
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="sop_business_hours_changed",
        target="sop_setting:business_hours",
        details={"old": old_text, "new": new_text},
    )


def audit_deadline(
    conn: Connection,
    *,
    ticket_id: str,
    step_id: str,
    source: DeadlineSource,
    old: EnteredDeadline | None,
    new: EnteredDeadline | None,
    actor_id: str,
    now: datetime,
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="sop_deadline_set" if new is not None else "sop_deadline_cleared",
        target=f"ticket:{ticket_id}",
        details={
            "step_id": step_id,
            "source": source.value,
            "old": old.at if old is not None else None,
            "new": new.at if new is not None else None,
        },
    )


def audit_required_skip(
    conn: Connection, *, ticket_id: str, step_id: str, reason: str, actor_id: str, now: datetime
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="sop_required_step_skipped",
        target=f"ticket:{ticket_id}",
        details={"step_id": step_id, "reason": redact_phones(reason)},
    )
