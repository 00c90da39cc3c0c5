"""PyInstaller run-time hook, in place of pyi_rth_pyside6 (see build_installer.spec): point Qt at the
bundled plugins without importing PySide6, so the frozen app, like the source, imports its data layer
before PySide6. Run-time hooks share the app's __main__ namespace, hence the function deleted after use."""


def _pyi_rthook() -> None:
    import os
    import sys

    qt = os.path.join(sys._MEIPASS, "PySide6")  # type: ignore[attr-defined]  # set by the bootloader
    plugins = os.path.join(qt, "plugins") if sys.platform == "win32" else os.path.join(qt, "Qt", "plugins")
    os.environ["QT_PLUGIN_PATH"] = plugins


_pyi_rthook()
del _pyi_rthook
