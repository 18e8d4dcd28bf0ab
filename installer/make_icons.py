"""Render the app icon (gazal_desktop/resources/app-icon.svg) to the formats bundles need.

    python installer/make_icons.py OUTDIR

Writes app-icon.png (256 px, Linux and the .desktop file), and with Pillow installed
app-icon.ico (Windows) and app-icon.icns (macOS). Uses Qt's SVG renderer, offscreen.
"""

import os
import sys
from pathlib import Path


def main(outdir: str) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from gazal_desktop import resources

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - Qt needs one
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    renderer = QSvgRenderer(QByteArray(resources.read_text("app-icon.svg").encode()))
    image = QImage(256, 256, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    png = out / "app-icon.png"
    if not image.save(str(png)):
        print("could not write", png, file=sys.stderr)
        return 1
    try:
        from PIL import Image
    except ImportError:
        print("Pillow not installed: wrote only", png)
        return 0
    with Image.open(png) as im:
        im.save(out / "app-icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
        im.save(out / "app-icon.icns")
    print("wrote", ", ".join(p.name for p in sorted(out.glob("app-icon.*"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/icons"))
