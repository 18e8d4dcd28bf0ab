"""The model registry and GGUF downloads, against a Hugging Face-like server on loopback."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gazal_desktop.core import models as models_mod
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.models import (
    DownloadCancelled, ModelError, ModelRegistry, download_gguf, list_repo_ggufs, partial_path,
)

REPO = "TachyHealth/Gazal-R1-32B-GGUF"


class FakeHub(BaseHTTPRequestHandler):
    """Just enough of the Hub: model info with file sizes and sha256, and resolve with Range."""

    files: dict[str, bytes] = {}
    serve_bytes: dict[str, bytes] = {}  # what is actually sent (to simulate corruption)
    drop_after: int | None = None  # close the connection after this many body bytes
    ranges: list[str] = []
    trickle = False  # 1 KB every 2 s

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith(f"/api/models/{REPO}"):
            body = json.dumps({
                "id": REPO, "sha": "a" * 40,
                "siblings": [
                    {"rfilename": n, "size": len(d), "lfs": {"sha256": hashlib.sha256(d).hexdigest(),
                                                            "size": len(d), "pointerSize": 134}}
                    for n, d in self.files.items()
                ] + [{"rfilename": "README.md", "size": 10}],
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        m = re.match(rf"/{REPO}/resolve/[^/]+/(.+)$", self.path)
        if not m or m.group(1) not in self.files:
            self.send_error(404)
            return
        data = self.serve_bytes.get(m.group(1), self.files[m.group(1)])
        start = 0
        rng = self.headers.get("Range")
        if rng:
            FakeHub.ranges.append(rng)
            start = int(re.match(r"bytes=(\d+)-", rng).group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.trickle:  # a slow link: a little, then a long wait, then a little
            try:
                for i in range(0, len(body), 1024):
                    self.wfile.write(body[i:i + 1024])
                    self.wfile.flush()
                    time.sleep(2)
            except OSError:
                pass
            return
        if self.drop_after is not None:
            self.wfile.write(body[: self.drop_after])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def hub(tiny_gguf, monkeypatch):
    # These tests talk to a loopback server, so the offline switch the suite sets is lifted.
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    FakeHub.files = {"gazal-r1-32b-Q4_K_M.gguf": tiny_gguf.read_bytes(), "gazal-r1-32b-Q8_0.gguf": b"x" * 5000}
    FakeHub.serve_bytes, FakeHub.drop_after, FakeHub.ranges, FakeHub.trickle = {}, None, [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    FakeHub.trickle = False


def test_lists_only_gguf_files_with_sizes_and_hashes(hub):
    files = list_repo_ggufs(REPO, endpoint=hub)
    assert [f.filename for f in files] == ["gazal-r1-32b-Q8_0.gguf", "gazal-r1-32b-Q4_K_M.gguf"]
    q4 = files[1]
    assert q4.size == len(FakeHub.files[q4.filename]) and len(q4.sha256) == 64


def test_download_verifies_and_registers(hub, tmp_path):
    reg = ModelRegistry(tmp_path / "data")
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q4_K_M" in f.filename)
    seen = []
    path = download_gguf(remote, reg.folder, progress=lambda d, t: seen.append((d, t)), endpoint=hub)
    assert path.read_bytes() == FakeHub.files[remote.filename]
    assert seen[-1] == (remote.size, remote.size)
    (entry,) = reg.list()
    assert entry.path == path and entry.file_type == "Q8_0" and not entry.added


def test_interrupted_download_is_not_offered_and_resumes(hub, tmp_path):
    reg = ModelRegistry(tmp_path / "data")
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q4_K_M" in f.filename)
    FakeHub.drop_after = remote.size // 3
    with pytest.raises(ModelError, match="resume"):
        download_gguf(remote, reg.folder, endpoint=hub)
    part = partial_path(reg.folder / remote.filename)
    assert part.exists() and 0 < part.stat().st_size < remote.size
    assert reg.list() == []  # never offered while partial
    FakeHub.drop_after = None
    path = download_gguf(remote, reg.folder, endpoint=hub)
    assert FakeHub.ranges and FakeHub.ranges[-1] == f"bytes={remote.size // 3}-"
    assert path.read_bytes() == FakeHub.files[remote.filename] and not part.exists()
    assert [e.path for e in reg.list()] == [path]


def test_corrupted_download_is_deleted(hub, tmp_path):
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q8_0" in f.filename)
    FakeHub.serve_bytes = {remote.filename: b"y" * remote.size}
    with pytest.raises(ModelError, match="corrupted"):
        download_gguf(remote, tmp_path, endpoint=hub)
    assert list(tmp_path.iterdir()) == []


def test_a_server_sending_more_than_announced_is_stopped_at_the_size(hub, tmp_path):
    name = "gazal-r1-32b-Q8_0.gguf"
    FakeHub.serve_bytes = {name: b"x" * 5000 + b"y" * 2_000_000}  # the repo says 5,000 bytes
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if f.filename == name)
    with pytest.raises(ModelError, match="sent more than the 5,000 bytes"):
        download_gguf(remote, tmp_path, endpoint=hub)
    assert not (tmp_path / name).exists() and not partial_path(tmp_path / name).exists()
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) == 0  # nothing kept on disk


def test_not_enough_disk_is_refused_before_downloading(hub, tmp_path, monkeypatch):
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q4_K_M" in f.filename)
    real = shutil.disk_usage
    monkeypatch.setattr(models_mod.shutil, "disk_usage", lambda p: real(p)._replace(free=100))
    with pytest.raises(ModelError, match="Not enough free disk"):
        download_gguf(remote, tmp_path, endpoint=hub)
    assert list(tmp_path.iterdir()) == []


def test_cancel_pauses_and_keeps_the_part(hub, tmp_path):
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q4_K_M" in f.filename)
    cancel = CancelToken()

    def progress(done, total):
        if done > 0:
            cancel.cancel()

    monkeypatch_chunk = models_mod.CHUNK
    models_mod.CHUNK = 64 * 1024
    try:
        with pytest.raises(DownloadCancelled):
            download_gguf(remote, tmp_path, progress=progress, cancel=cancel, endpoint=hub)
    finally:
        models_mod.CHUNK = monkeypatch_chunk
    part = partial_path(tmp_path / remote.filename)
    assert part.exists() and not (tmp_path / remote.filename).exists()
    assert download_gguf(remote, tmp_path, endpoint=hub).read_bytes() == FakeHub.files[remote.filename]


def test_registry_remembers_opened_files_and_rejects_broken_ones(tiny_gguf, tmp_path):
    reg = ModelRegistry(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere" / "my.gguf"
    elsewhere.parent.mkdir()
    shutil.copy(tiny_gguf, elsewhere)
    reg.add(elsewhere)
    assert [(e.path, e.added) for e in ModelRegistry(tmp_path / "data").list()] == [(elsewhere, True)]
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 10)
    with pytest.raises(ModelError):
        reg.add(broken)
    elsewhere.unlink()
    (entry,) = reg.list()
    assert entry.missing
    reg.forget(elsewhere)
    assert reg.list() == []


def test_pause_on_a_slow_link_acts_within_a_second(hub, tmp_path):
    remote = next(f for f in list_repo_ggufs(REPO, endpoint=hub) if "Q4_K_M" in f.filename)
    FakeHub.trickle = True  # 1 KB every 2 s: a read waits 2 s for its next byte
    cancel, started, paused_at = CancelToken(), threading.Event(), []

    def pause_soon():
        started.wait(10)
        time.sleep(0.3)
        paused_at.append(time.monotonic())
        cancel.cancel()

    threading.Thread(target=pause_soon, daemon=True).start()
    with pytest.raises(DownloadCancelled):
        download_gguf(remote, tmp_path, progress=lambda done, total: done and started.set(), cancel=cancel,
                      endpoint=hub)
    assert time.monotonic() - paused_at[0] < 1.0
    assert partial_path(tmp_path / remote.filename).stat().st_size > 0  # what came is kept for the resume
