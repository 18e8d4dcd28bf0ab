"""The frozen bundle's entry point: one program, two names.

The bundle holds two executables built from this script, ``gazal-desktop`` and
``gazal-convert``; each runs the program its file is named after, as the wheel's console
scripts do.
"""

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    name = Path(sys.executable if getattr(sys, "frozen", False) else sys.argv[0]).stem.lower()
    if name.startswith("gazal-convert"):
        from gazal_convert.cli import main as convert_main

        return convert_main()
    from gazal_desktop.app import main as desktop_main

    return desktop_main()


if __name__ == "__main__":
    sys.exit(main())
