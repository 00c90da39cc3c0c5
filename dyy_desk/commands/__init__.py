"""Sub-command modules of `dyy-desk`: every `*_commands.py` here exposes register(subparsers).

Found by name so each area adds its commands without editing a shared list; handlers keep their heavy
imports inside, so registering all of them costs almost nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def command_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name.endswith("_commands"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
