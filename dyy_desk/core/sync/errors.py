"""The one error type an import shows to people: a refusal with a plain Chinese message."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    NOT_A_BUNDLE = "not_a_bundle"
    DAMAGED = "damaged"  # truncated, flipped bytes, wrong team key: indistinguishable by design
    NEWER_FORMAT = "newer_format"
    NEWER_SCHEMA = "newer_schema"
    OTHER_TEAM = "other_team"
    CHECKSUM = "checksum"
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"


class BundleError(ValueError):
    """Raised for any bundle that must not be imported. `message` is shown to the user as is."""

    def __init__(self, reason: Refusal, message: str, *, table: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.table = table
