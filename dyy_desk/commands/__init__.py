"""Sub-command modules of `dyy-desk`; each exposes register(subparsers) and sets a `handler`."""

from __future__ import annotations

from dyy_desk.commands import workspace_commands

COMMAND_MODULES = [workspace_commands]
