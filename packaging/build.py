"""Build inspector's one-folder desktop bundle with PyInstaller, and on Linux its tarball.

    python3 packaging/build.py [--venv build/bundle-venv] [--smoke]

1. A build venv with inspector installed from this checkout as a wheel (not editable; its
   dependencies resolved from the index like any user's install) and PyInstaller.
2. The icons, rendered from resources/icons/inspector.svg (packaging/make_icons.py; on macOS
   `iconutil` turns the iconset into inspector.icns).
3. PyInstaller with packaging/inspector.spec: dist/inspector/ (dist/inspector.app on macOS).
4. Linux: dist/inspector-VERSION-linux-ARCH.tar.gz with the folder, inspector.desktop, the
   icons and install-desktop-entry.sh. No AppImage: appimagetool is not packaged for Debian
   or on PyPI, so it cannot be installed here.
5. With --smoke, packaging/smoke_bundle.py runs the bundle (serve, validate, every
   subcommand's --help, the window under Xvfb).

Prints the bundle's size and the build's duration. Windows and macOS run the same script
(the GitHub Actions workflow .github/workflows/packaging.yml); they are not verified here.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
PYINSTALLER = "pyinstaller>=6.10,<7"


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a build step, echoing it; a failing step ends the build with its exit code."""
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, env=env)


def venv_python(venv: Path) -> Path:
    """The build venv's interpreter."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def folder_size(path: Path) -> int:
    """Bytes in every file under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def version() -> str:
    """inspector's version, read from the source (the build venv's copy is the same)."""
    for line in (ROOT / "inspector" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit("build: no __version__ in inspector/__init__.py")


def make_tarball(dist: Path, icons: Path) -> Path:
    """dist/inspector-VERSION-linux-ARCH.tar.gz: the bundle, desktop entry and icons."""
    name = f"inspector-{version()}-linux-{platform.machine()}"
    staging = dist / name
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(dist / "inspector", staging, symlinks=True)
    shutil.copy2(PACKAGING / "linux" / "inspector.desktop", staging)
    shutil.copy2(PACKAGING / "linux" / "install-desktop-entry.sh", staging)
    for png in icons.glob("inspector-*.png"):
        size = png.stem.rsplit("-", 1)[1]
        target = staging / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / "inspector.png")
    scalable = staging / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "icons" / "inspector.svg", scalable)
    archive = dist / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(staging, arcname=name)
    shutil.rmtree(staging)
    return archive


def main(argv: list[str] | None = None) -> int:
    """Build; 0 on success (a failing step raises CalledProcessError)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "bundle-venv",
                        help="build venv (created if missing; default build/bundle-venv)")
    parser.add_argument("--smoke", action="store_true",
                        help="then run packaging/smoke_bundle.py on the result")
    args = parser.parse_args(argv)
    started = time.monotonic()
    python = venv_python(args.venv)
    if not python.exists():
        run(sys.executable, "-m", "venv", args.venv)
    run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "-q", ".", PYINSTALLER)
    icons = ROOT / "build" / "icons"
    run(python, PACKAGING / "make_icons.py", icons, "--ico", "--iconset")
    if sys.platform == "darwin":
        run("iconutil", "-c", "icns", icons / "inspector.iconset", "-o", icons / "inspector.icns")
    dist = ROOT / "dist"
    env = {**os.environ, "INSPECTOR_ICONS": str(icons)}
    run(python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", dist, "--workpath", ROOT / "build" / "pyinstaller",
        PACKAGING / "inspector.spec", env=env)
    bundle = dist / ("inspector.app" if sys.platform == "darwin" else "inspector")
    print(f"build: {bundle} {folder_size(bundle) / 1e6:.0f} MB", flush=True)
    if sys.platform.startswith("linux"):
        archive = make_tarball(dist, icons)
        print(f"build: {archive} {archive.stat().st_size / 1e6:.0f} MB", flush=True)
    print(f"build: done in {time.monotonic() - started:.0f} s", flush=True)
    if args.smoke:
        run(sys.executable, PACKAGING / "smoke_bundle.py", dist / "inspector" / "inspector")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
