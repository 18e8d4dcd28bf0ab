from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from testenv import THREADS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tiny_gguf, tmp_path_factory):
    """A real llama-cpp-python server process on 127.0.0.1 serving the tiny GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "1024", "--n_threads", str(THREADS), "--model_alias", "tiny-gazal"],
            stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=1) as r:
                json.loads(r.read())
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("llama_cpp.server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
