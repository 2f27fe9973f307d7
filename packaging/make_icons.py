"""Render resources/icons/inspector.svg to the PNG sizes desktops want, and to a Windows .ico.

Usage: python packaging/make_icons.py OUT_DIR [--ico] [--iconset]

Rendering goes through Qt's own QSvgRenderer (PySide6-Essentials, already a dependency), so
no image tool is needed. ``--ico`` also writes inspector.ico (Qt's ico plugin), and
``--iconset`` an ``inspector.iconset`` folder that macOS's ``iconutil -c icns`` turns into
the .icns a bundle needs (Qt cannot write .icns).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SVG = Path(__file__).resolve().parent.parent / "resources" / "icons" / "inspector.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: The file names macOS's iconutil expects in an .iconset, with their pixel sizes.
ICONSET = {f"icon_{s}x{s}.png": s for s in (16, 32, 128, 256, 512)} | {
    f"icon_{s}x{s}@2x.png": s * 2 for s in (16, 32, 128, 256, 512)}


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The icon at ``size`` x ``size`` pixels, on a transparent background."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main(argv: list[str] | None = None) -> int:
    """Write the icons; 2 if the SVG cannot be read or an image cannot be written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--ico", action="store_true", help="also write inspector.ico")
    parser.add_argument("--iconset", action="store_true",
                        help="also write inspector.iconset/ for iconutil (macOS)")
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"make_icons: cannot render {SVG}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    targets = {out / f"inspector-{size}.png": size for size in PNG_SIZES}
    if args.iconset:
        (out / "inspector.iconset").mkdir(exist_ok=True)
        targets |= {out / "inspector.iconset" / name: size for name, size in ICONSET.items()}
    for path, size in targets.items():
        if not render(renderer, size).save(str(path)):
            print(f"make_icons: cannot write {path}", file=sys.stderr)
            return 2
    if args.ico and not render(renderer, 256).save(str(out / "inspector.ico"), "ICO"):
        print("make_icons: this Qt cannot write .ico", file=sys.stderr)
        return 2
    print(f"make_icons: {len(targets) + int(args.ico)} files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
