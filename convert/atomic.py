"""Write-then-rename output files: a failure or Ctrl-C never leaves a partial GGUF."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from gazal_convert.errors import ConvertError, describe_os_error

SUFFIX = ".partial"


def temp_path_for(final: Path) -> Path:
    # Hidden, and not ending in .gguf, so nothing offers it as a model while it grows.
    return final.with_name(f".{final.name}.{os.getpid()}{SUFFIX}")


def remove_stale_temps(final: Path) -> list[Path]:
    """Delete temporaries a killed run (SIGKILL, power loss) left beside `final`."""
    removed = []
    for p in final.parent.glob(f".{final.name}.*{SUFFIX}"):
        pid_text = p.name[len(final.name) + 2 : -len(SUFFIX)]
        if pid_text.isdigit() and _pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def discard(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def commit(tmp: Path, final: Path) -> None:
    """fsync the finished temporary and rename it over `final` atomically."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    try:  # make the rename itself durable
        dfd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def disk_full_error(where: Path, exc: OSError) -> ConvertError:
    if exc.errno == errno.ENOSPC:
        return ConvertError(
            f"The disk holding {where.parent} filled up while writing. Nothing was kept; "
            "free some space and run gazal-convert again."
        )
    return ConvertError(describe_os_error(exc))
