"""Plain-Python case library (no Qt): SQLite store, migrations, import/export, backups."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gazal_desktop.library.db import Library, as_library_error


def open_library(data_dir: Path | None = None):
    """Open (or create) the library and bring in starter cases this release adds.

    Returns (library, report of the starter import or None when nothing was new). Starter
    cases are imported once per release: ones the learner deleted are not brought back and
    ones they edited are not overwritten.
    """
    from gazal_desktop import resources
    from gazal_desktop.core.paths import data_dir as default_dir
    from gazal_desktop.library.cases import CaseStore
    from gazal_desktop.library.exchange import import_pack

    from gazal_desktop.library.quiz import QuizStore

    folder = data_dir or default_dir()
    lib = Library.open(folder)
    try:
        pack = json.loads(resources.read_text("starter_cases.json"))
        release = int(pack["pack"]["release"])
        report = None
        if int(lib.get_meta("starter_release", "0")) < release:
            report = import_pack(CaseStore(lib), pack, origin="starter")
            lib.set_meta("starter_release", str(release))
        QuizStore(lib).sync_authored()  # questions from answer keys: a deck before any model is loaded
    except (sqlite3.DatabaseError, OSError) as exc:
        lib.close(backup=False)
        raise as_library_error(folder, exc) from None
    return lib, report
