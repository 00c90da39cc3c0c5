"""What an operation touched, so each panel refreshes only what it shows (Anki's OpChanges)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    tickets: bool = False
    library: bool = False
    sop: bool = False
    escalations: bool = False
    qa: bool = False
    users: bool = False
    ticket_ids: tuple[str, ...] = ()

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            tickets=self.tickets or other.tickets,
            library=self.library or other.library,
            sop=self.sop or other.sop,
            escalations=self.escalations or other.escalations,
            qa=self.qa or other.qa,
            users=self.users or other.users,
            ticket_ids=tuple(dict.fromkeys(self.ticket_ids + other.ticket_ids)),
        )


NO_CHANGES = Changes()
