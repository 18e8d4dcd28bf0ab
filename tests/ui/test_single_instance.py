"""One app per data folder: a second copy started on the same library says so and quits
instead of writing beside the first; a copy that crashed leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from gazal_desktop.core.settings import AppSettings, save_settings
from gazal_desktop.safety import DISCLAIMER_VERSION


def _launch(folder, env):
    return subprocess.Popen([sys.executable, "-m", "gazal_desktop.app", "--data-dir", str(folder)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _accepted(folder):
    """A data folder whose learner accepted the current disclaimer (no gate to click)."""
    folder.mkdir()
    s = AppSettings()
    s.accept_disclaimer(DISCLAIMER_VERSION)
    save_settings(folder, s)
    return folder, {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def _wait_for_library(folder, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (folder / "library.db").exists() and (folder / "gazal-desktop.lock").exists():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("the first copy did not open its library")


def test_a_second_copy_on_the_same_folder_says_so_and_quits(tmp_path):
    folder, env = _accepted(tmp_path / "lib")
    first = _launch(folder, env)
    try:
        _wait_for_library(folder, first)
        time.sleep(2)  # the window is up and listening
        second = _launch(folder, env)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 3
        assert "already open with this data folder" in err and "brought to the front" in err
        assert first.poll() is None  # the first copy goes on
        other = _launch(tmp_path / "other", env)  # another folder is another library: allowed
        time.sleep(3)
        assert other.poll() is None or other.returncode != 3
        other.kill()
        other.communicate()
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: the lock it leaves is stale
        _, first_err = first.communicate()
    assert "asked for this window: brought to the front" in first_err
    again = _launch(folder, env)
    try:
        _wait_for_library(folder, again)
        time.sleep(1)
        assert again.poll() is None  # took the crashed copy's lock over
    finally:
        again.kill()
        again.communicate()


def test_two_copies_starting_at_once_on_a_new_folder_leave_one_running(tmp_path):
    folder, env = _accepted(tmp_path / "new")
    procs = [_launch(folder, env) for _ in range(2)]
    try:
        deadline = time.time() + 90
        while time.time() < deadline and all(p.poll() is None for p in procs):
            time.sleep(0.2)
        ended = [p for p in procs if p.poll() is not None]
        assert len(ended) == 1 and ended[0].returncode == 3, [p.communicate(timeout=5) for p in ended]
        running = next(p for p in procs if p is not ended[0])
        _wait_for_library(folder, running)
        assert running.poll() is None
    finally:
        for p in procs:
            p.kill()
            p.communicate()
