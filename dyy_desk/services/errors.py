"""Errors a service raises for the user to read (plain Chinese); anything else is a bug to log."""

from __future__ import annotations


class ServiceError(RuntimeError):
    pass


class NotFound(ServiceError):
    pass
