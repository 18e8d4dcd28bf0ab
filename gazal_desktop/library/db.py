"""The library database: open, check, migrate, back up, restore.

One SQLite file (WAL, foreign keys on) in the app's data folder. Named migrations run in
a transaction on open and are recorded; a database that a newer app migrated is refused
rather than damaged. A failed integrity check raises :class:`LibraryCorrupt`, which names
the newest backup to restore: never a crash, never a silently empty library.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

DB_NAME = "library.db"
BACKUP_DIR = "backups"
BACKUP_INTERVAL = dt.timedelta(minutes=30)


class LibraryError(Exception):
    """A library problem explained for the learner."""


class LibraryCorrupt(LibraryError):
    """The file is damaged. `latest_backup` is the newest backup that passed its own check
    (None when there is none); `skipped` lists newer backups that are damaged too."""

    def __init__(self, message: str, latest_backup: Path | None, skipped: tuple[Path, ...] = ()) -> None:
        super().__init__(message)
        self.latest_backup = latest_backup
        self.skipped = skipped


class DiskFull(LibraryError):
    pass


class LibraryTooNew(LibraryError):
    pass


class RowDamaged(sqlite3.DatabaseError):
    """A stored value the app wrote as JSON no longer parses: the file was changed under us."""


SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 11, 13, 26


def is_damage(exc: BaseException) -> bool:
    """True for errors that mean the file itself is damaged (not a busy or full disk)."""
    if isinstance(exc, RowDamaged):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    code = getattr(exc, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF == SQLITE_FULL) or "disk is full" in str(exc).lower()


SQLITE_IOERR = 10


def _is_io_error(exc: BaseException) -> bool:
    """SQLite reports a write that ran out of space in its shared memory or WAL as an I/O
    error rather than SQLITE_FULL."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, OSError) or (code is not None and code & 0xFF == SQLITE_IOERR)


def means_disk_full(exc: BaseException, folder: Path) -> bool:
    return is_disk_full(exc) or (_is_io_error(exc) and _nearly_full(folder))


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1024 * 1024
    except OSError:
        return False


DISK_FULL = ("The disk holding the case library ({folder}) is full, so nothing can be saved. Free some space "
             "and start Gazal Desktop again; the library itself is intact.")


def stored_json(text: str | None, default):
    """A JSON column as the app wrote it; a value that no longer parses is damage."""
    if not text:
        return default
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        raise RowDamaged(f"a stored value is damaged ({text[:40]!r}…)") from None
    if type(value) is not type(default):
        raise RowDamaged(f"a stored value has the wrong shape ({text[:40]!r}…)")
    return value


def _decode(raw: bytes) -> str:
    """Text as stored; bytes that are not UTF-8 (a flipped bit) show as U+FFFD instead of
    making the whole row unreadable."""
    return raw.decode("utf-8", "replace")


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


# -- migrations (the schema is library/schema.py) ---------------------------------------
from gazal_desktop.library.schema import MIGRATIONS, migration  # noqa: E402,F401 - migration: for tests


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply what is missing, each in its own transaction. Returns the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in db.execute("SELECT name FROM _migrations").fetchall()}
    known = {name for name, _ in MIGRATIONS}
    unknown = sorted(done - known)
    if unknown:
        raise LibraryTooNew(
            f"This library was last opened by a newer Gazal Desktop (it has changes {', '.join(unknown)} "
            "this version does not know). Update the app; the library was not touched."
        )
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with _Transaction(db.conn):  # all of a migration or none of it
            fn(db)
            db.conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, utcnow()))
        applied.append(name)
    return applied


# -- the library ---------------------------------------------------------------------------
@dataclass
class Library:
    path: Path
    db: sqlite_utils.Database

    @property
    def backup_dir(self) -> Path:
        d = self.path.parent / BACKUP_DIR
        d.mkdir(parents=True, exist_ok=True)
        return d

    @classmethod
    def open(cls, data_dir: Path) -> "Library":
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / DB_NAME
        existed = path.exists() and path.stat().st_size > 0
        try:
            if path.exists() and not existed and latest_backup(data_dir / BACKUP_DIR) is not None:
                # An empty file where a library was (a crash mid-write, a sync tool) is damage,
                # not a new library: opening it as new would hide the backups and the next
                # close would back up the empty library.
                raise sqlite3.DatabaseError("the file is empty")
            conn = _connect(path)
            if existed:
                # The full check (0.9 s for 100,000 cases, off the GUI thread): quick_check
                # misses damaged indexes, which then fail later, mid-session.
                result = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
                if result != "ok":
                    raise sqlite3.DatabaseError(result)
            conn.execute("PRAGMA journal_mode=WAL")
            _settings(conn)
            db = sqlite_utils.Database(conn)
            apply_migrations(db)
        except LibraryError:
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise as_library_error(data_dir, exc) from None
        return cls(path, db)

    def second_connection(self) -> "Library":
        """The same library on a connection of its own, for long work on another thread (an
        import): it commits in batches, and the app's connection writes between them."""
        conn = _connect(self.path)
        _settings(conn)
        return Library(self.path, sqlite_utils.Database(conn))

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.put_meta(key, value)

    def put_meta(self, key: str, value: str) -> None:
        """set_meta for use inside a transaction the caller holds."""
        self.db.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        """Query results as dicts keyed by column name."""
        cur = self.db.conn.execute(sql, tuple(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def close(self, backup: bool = True) -> None:
        """Close, backing up first if anything changed (the app also calls maybe_backup
        every BACKUP_INTERVAL while it runs)."""
        if backup:
            try:
                self.maybe_backup()
            except (OSError, sqlite3.Error):
                pass  # a failed backup must not stop the app from closing
        self.db.conn.close()

    def transaction(self):
        """`with lib.transaction():` - all the writes inside commit together or not at all."""
        return _Transaction(self.db.conn)

    # -- backups ---------------------------------------------------------------------------
    def backup(self, now: dt.datetime | None = None) -> Path:
        """A consistent copy of the live database (SQLite's online backup), renamed into place."""
        now = now or dt.datetime.now(dt.timezone.utc)
        final = self.backup_dir / f"library-{now.strftime('%Y%m%d-%H%M%S')}.db"
        tmp = final.with_name("." + final.name + ".tmp")
        dest = sqlite3.connect(tmp)
        try:
            self.db.conn.backup(dest)
        finally:
            dest.close()
        os.replace(tmp, final)
        self._backed_up_changes = self.db.conn.total_changes
        return final

    def changed_since_backup(self) -> bool:
        return self.db.conn.total_changes != getattr(self, "_backed_up_changes", 0)

    def maybe_backup(self, now: dt.datetime | None = None) -> Path | None:
        """Back up if anything changed since the last backup, then thin old backups."""
        if not self.changed_since_backup():
            return None
        path = self.backup(now)
        thin_backups(self.backup_dir, now or dt.datetime.now(dt.timezone.utc))
        return path


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.text_factory = _decode
    return conn


def _settings(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def backup_time(path: Path) -> str:
    stamp = path.stem.split("-", 1)[1]
    return dt.datetime.strptime(stamp, "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M UTC")


def as_library_error(data_dir: Path, exc: BaseException) -> LibraryError:
    """What a database or file error while opening or using the library means for the learner."""
    if isinstance(exc, LibraryError):
        return exc
    if means_disk_full(exc, data_dir):
        return DiskFull(DISK_FULL.format(folder=data_dir))
    if is_damage(exc) or (isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)):
        return damaged(data_dir, exc)
    return LibraryError(f"The case library at {data_dir / DB_NAME} could not be used: {exc}.")


def damaged(data_dir: Path, exc: BaseException) -> LibraryCorrupt:
    """The error for a damaged library, naming the newest backup that is itself sound."""
    path = data_dir / DB_NAME
    good, skipped = newest_good_backup(data_dir / BACKUP_DIR)
    hint = f" The newest good backup is from {backup_time(good)}: restore it to continue." if good else \
        " No usable backup was found."
    if skipped:
        hint += f" ({len(skipped)} newer backup{'s are' if len(skipped) > 1 else ' is'} damaged too and {'were' if len(skipped) > 1 else 'was'} skipped.)"
    return LibraryCorrupt(f"The case library at {path} is damaged ({exc}).{hint}", good, tuple(skipped))


def verify_backup(path: Path) -> bool:
    """A backup is offered only if SQLite's full check passes and it holds a library."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check(1)").fetchone()[0] != "ok":
                return False
            return conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def newest_good_backup(backup_dir: Path) -> tuple[Path | None, list[Path]]:
    """(the newest backup that passes verify_backup, the newer ones that did not)."""
    skipped = []
    for p in reversed(list_backups(backup_dir)):
        if verify_backup(p):
            return p, skipped
        skipped.append(p)
    return None, skipped


def list_backups(backup_dir: Path) -> list[Path]:
    if not backup_dir.is_dir():
        return []
    return sorted(p for p in backup_dir.glob("library-*.db") if not p.name.startswith("."))


def latest_backup(backup_dir: Path) -> Path | None:
    found = list_backups(backup_dir)
    return found[-1] if found else None


def thin_backups(backup_dir: Path, now: dt.datetime, daily: int = 7, weekly: int = 5, monthly: int = 12) -> list[Path]:
    """Keep everything from the last day, then one per day, per week and per month."""
    keep: set[Path] = set()
    buckets: dict[tuple, Path] = {}
    for p in list_backups(backup_dir):  # oldest first: later ones overwrite, keeping the newest per bucket
        t = dt.datetime.strptime(p.stem.split("-", 1)[1], "%Y%m%d-%H%M%S").replace(tzinfo=dt.timezone.utc)
        age = now - t
        if age <= dt.timedelta(days=1):
            keep.add(p)
        elif age <= dt.timedelta(days=daily):
            buckets[("d", t.date())] = p
        elif age <= dt.timedelta(weeks=weekly):
            buckets[("w",) + tuple(t.isocalendar()[:2])] = p
        elif age <= dt.timedelta(days=31 * monthly):
            buckets[("m", t.year, t.month)] = p
    keep |= set(buckets.values())
    removed = []
    for p in list_backups(backup_dir):
        if p not in keep:
            p.unlink()
            removed.append(p)
    return removed


def restore_backup(data_dir: Path, backup: Path) -> Path:
    """Put `backup` in place of the library (the current file is kept aside, not deleted).

    Call with the library closed. Returns where the replaced file was kept.
    """
    path = data_dir / DB_NAME
    if not verify_backup(backup):
        raise LibraryError(f"The backup {backup.name} is damaged too; choose an older one.")
    aside = path.with_name(f"library-replaced-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.db")
    if path.exists():
        os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            os.replace(side, Path(str(aside) + suffix))
    tmp = path.with_name("." + path.name + ".restore")
    shutil.copyfile(backup, tmp)
    os.replace(tmp, path)
    return aside
