"""DYY Desk — 代运营客服工作台."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("dyy-desk")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
