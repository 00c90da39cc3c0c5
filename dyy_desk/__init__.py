"""DYY Desk — 代运营客服工作台."""

# The one place the version is written: pyproject reads it (dynamic version), and the app does not
# pay for importlib.metadata (about 40 ms) on every start.
__version__ = "0.1.0"
