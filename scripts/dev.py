"""Developer entry point, standard library only: set up .venv, then run the app, the tests or a build.

python scripts/dev.py run      create .venv, install, start the app on ./.dyy-data (demo workspace)
python scripts/dev.py test     same set-up, then ruff, import-linter, mypy (core, services), pytest
python scripts/dev.py package  same set-up, then build the installer for this platform
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".dyy-install-stamp"
DEV_DATA = ROOT / ".dyy-data"


def _bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str = "dev,package") -> Path:
    """Create .venv and install the project once; reinstall only when pyproject.toml changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python
        sys.exit(f"DYY Desk needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = _bin("python")
    if not python.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        _run(python, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
        STAMP.write_text(wanted)
    return python


def cmd_run(argv: list[str]) -> None:
    python = ensure_venv()
    if argv:
        _run(python, "-m", "dyy_desk", *argv)
        return
    if not (DEV_DATA / "dyy_desk.sqlite3").exists():
        _run(python, "-m", "dyy_desk", "--data-dir", str(DEV_DATA), "init", "--demo")
    _run(python, "-m", "dyy_desk", "--data-dir", str(DEV_DATA))


def cmd_test(argv: list[str]) -> None:
    python = ensure_venv()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    _run(_bin("ruff"), "check", "dyy_desk", "tests", "scripts", env=env)
    _run(_bin("lint-imports"), env=env)
    _run(_bin("mypy"), "dyy_desk/core", "dyy_desk/services", env=env)
    _run_pytest(python, argv, env)


def _run_pytest(python: Path, argv: list[str], env: dict[str, str]) -> None:
    """A failing test fails the run. A native crash of the whole process (killed by a signal; an
    intermittent SIGSEGV under Qt worker threads is still being hunted, see the latest closing note)
    is reported loudly and the suite runs once more; a second crash fails the run."""
    args = [str(python), "-m", "pytest", *argv]
    for attempt in (1, 2):
        print("+", " ".join(args), flush=True)
        code = subprocess.run(args, cwd=ROOT, env=env).returncode
        if code >= 0 or attempt == 2:
            if code != 0:
                sys.exit(code if code > 0 else 128 - code)
            return
        print(f"\n!!! pytest was killed by signal {-code} (native crash); running it once more\n", flush=True)


def cmd_package(argv: list[str]) -> None:
    python = ensure_venv()
    _run(python, "scripts/build_installer.py", *argv)


COMMANDS = {"run": cmd_run, "test": cmd_test, "package": cmd_package}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
