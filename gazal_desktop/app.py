"""Entry point for ``gazal-desktop``.

Until the full application lands this opens a placeholder window that already carries
the not-a-medical-device banner, so nothing the project ships shows a model without it.
"""

from __future__ import annotations

import argparse
import sys

from gazal_desktop import __version__
from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_TITLE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazal-desktop",
        description="Offline clinical-reasoning tutor. " + DISCLAIMER_TITLE + ".",
    )
    parser.add_argument("--version", action="version", version=f"gazal-desktop {__version__}")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where the case library, models and settings live (default: the per-user app data "
                             "folder; the GAZAL_DATA_DIR environment variable also sets it)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        import os

        os.environ["GAZAL_DATA_DIR"] = args.data_dir  # read by gazal_desktop.core.paths.data_dir
    from gazal_desktop.ui.placeholder import PlaceholderWindow  # Qt only past argument parsing
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gazal Desktop")
    window = PlaceholderWindow(DISCLAIMER_TITLE, DISCLAIMER)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
