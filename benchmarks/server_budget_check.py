"""What the reasoning budget, the loop guard and Continue do against real servers.

    python benchmarks/server_budget_check.py [--llama-server PATH]

Builds a tiny random Qwen3 GGUF with gazal-convert, starts each server on 127.0.0.1 and
streams through the app's OpenAIBackend with the byte tokens forced (logit_bias), so the
reasoning never closes on its own: llama-cpp-python's server (always) and llama.cpp's
llama-server (when PATH is given; build it from llama.cpp's tools/server). Prints, per
server, what the backend learned about it, where reasoning was closed and by whom, and
whether Continue went on from where a reply stopped.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from gazal_convert.cli import main as convert_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint
from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.budget import CLOSING_SENTENCE
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, ReasoningClosed, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling

TINY = SyntheticSpec(n_layers=2, hidden=256, n_head=4, n_head_kv=2, head_dim=64, ffn=512, vocab_size=512)
PRINTABLE = {"logit_bias": {str(i): 100.0 for i in range(32, 122)}}
MSGS = [{"role": "system", "content": "Clinical tutor."}, {"role": "user", "content": "Diagnosis?"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], url: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=1) as r:
                json.loads(r.read())
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{cmd[0]} did not start:\n{log.read_text()[-2000:]}")


def check(name: str, url: str) -> None:
    b = OpenAIBackend(url + "/v1", extra_body=PRINTABLE)
    b.check()
    t = b.traits()
    print(f"{name}: dialect={t.dialect} chatml={t.chatml} raw_prompts={t.raw_prompts} native_budget={t.native_budget}")
    s = Sampling(max_tokens=10, reasoning_budget=40, seed=3, temperature=1.0, top_k=0, top_p=1.0)
    t0 = time.perf_counter()
    events = list(b.stream(MSGS, s))
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    usage = next((e for e in events if isinstance(e, Usage)), None)
    print(f"  budget 40 + answer 10: closed={[(c.tokens, c.why) for c in closed]} "
          f"closing sentence shown={reasoning.rstrip().endswith(CLOSING_SENTENCE)} answer chars={len(answer.strip())} "
          f"completion tokens={usage.completion_tokens if usage else None} finish={events[-1].reason} "
          f"({time.perf_counter() - t0:.1f}s)")
    chat = ChatSession(b, "A 30-year-old with fever.", Sampling(max_tokens=12, seed=5, temperature=1.0, top_k=0, top_p=1.0))
    list(chat.send("Diagnosis?"))
    reply = chat.messages[-1]
    before = reply.reasoning
    ok, why = chat.can_continue()
    if ok:
        list(chat.continue_reply())
    print(f"  Continue: offered={ok}{'' if ok else ' (' + why + ')'} grew from {len(before)} to {len(reply.reasoning)} "
          f"reasoning chars, same message={chat.messages[-1] is reply}, status={reply.status}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-server", type=Path, help="a llama-server binary to check as well")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gazal-server-check-"))
    ckpt = build_checkpoint(work / "ckpt", TINY)
    gguf = work / "tiny-q8_0.gguf"
    assert convert_main([str(ckpt), "--quant", "q8_0", "--outfile", str(gguf), "--progress", "none"]) == 0
    servers = [("llama-cpp-python server", [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                                            "--host", "127.0.0.1", "--n_ctx", "1024"], "--port")]
    if args.llama_server:
        servers.append(("llama-server", [str(args.llama_server), "-m", str(gguf), "--host", "127.0.0.1", "-c", "1024",
                                         "--jinja", "-np", "1"], "--port"))
    for name, cmd, port_flag in servers:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start(cmd + [port_flag, str(port)], url, work / f"{name.split()[0]}.log")
        try:
            check(name, url)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
