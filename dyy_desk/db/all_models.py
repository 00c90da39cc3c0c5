"""Import every table module so SQLModel.metadata is complete (Alembic env, Core table handles).

Each area keeps its tables in `dyy_desk/db/models*.py`; they are found by name, so adding an area never
edits a shared list. The PyInstaller spec collects the same modules.
"""

from __future__ import annotations

import importlib
import pkgutil

import dyy_desk.db as _db_package


def import_all_models() -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(_db_package.__path__)
        if info.name == "models" or info.name.startswith("models_")
    )
    for name in names:
        importlib.import_module(f"dyy_desk.db.{name}")
    return names


import_all_models()
