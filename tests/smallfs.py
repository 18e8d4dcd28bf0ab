"""Real small filesystems for the full-disk and read-only tests: a size-limited tmpfs, or a
read-only one, mounted on a folder of the test's own and unmounted after. Mounting needs root
(CI and the sessions run as root); elsewhere the tests that need it say why they cannot run."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted(where: Path, size_kib: int = 512, read_only: bool = False, fill_with: dict[str, bytes] | None = None):
    """A tmpfs of `size_kib` on `where`; `fill_with` files are written first (then the
    filesystem is remounted read-only when `read_only`)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a real full or read-only filesystem needs root to mount (CI runs as root)")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        for name, data in (fill_with or {}).items():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            (where / name).write_bytes(data)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(where: Path) -> None:
    """Use up every free byte of the filesystem holding `where`."""
    block = b"\0" * 65536
    with open(where / ".filler", "wb") as fh:
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    try:
        with open(where / ".filler-small", "wb") as fh:
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
    except OSError:
        pass
