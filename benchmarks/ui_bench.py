"""Does the window stay responsive while answers stream and long messages open?

    python benchmarks/ui_bench.py [--case NAME ...] [--tokens 2000]

A heartbeat timer ticks every 5 ms on the GUI thread while the real ChatView works; the
longest gap between ticks is the longest stall the learner could notice. Target: <= 50 ms
for every case. Cases (all by default):

  prose        a long Markdown answer with reasoning, streamed (--tokens, 500 tokens/s)
  table30      an answer with a 30-row lab table, streamed
  table15k     a 15 KB (400-row) table, streamed
  backticks    100 KB of backticks, streamed
  code         a 40 KB code block, streamed
  vignette1mb  a case whose vignette is 1 MB, opened
  reopen100k   a saved 100 KB answer with tables, opened

One line per case: `case=NAME max_stall_ms=X ...`; the last line is the worst of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gazal_desktop.core.chat import ChatMessage, ChatSession  # noqa: E402
from gazal_desktop.core.sampling import Sampling  # noqa: E402
from gazal_desktop.core.scripted import DEMO_REPLY, ScriptedBackend, tokenize_for_replay  # noqa: E402
from gazal_desktop.ui.chat_view import ChatView  # noqa: E402

THINK = DEMO_REPLY.split("</think>")[0] + "</think>"
ANSWER = DEMO_REPLY.split("</think>")[1]


def long_reply(tokens: int) -> str:
    text = THINK + ANSWER
    while len(tokenize_for_replay(text)) < tokens:
        text += "\n\n" + ANSWER.strip()
    return "".join(tokenize_for_replay(text)[:tokens])


def table(rows: int) -> str:
    head = "| Test | Result | Reference range (educational) |\n|---|---|---|\n"
    return head + "".join(f"| Serum sodium, sample {i} | {130 + i % 15} mmol/L | 135-145 mmol/L |\n" for i in range(rows))


def streamed(tokens: int) -> dict[str, tuple[str, float]]:
    """name -> (reply, seconds between 4-character tokens)"""
    return {
        "prose": (long_reply(tokens), 0.002),
        "table30": (THINK + "## Labs\n\n" + table(30) + "\nThe sodium is low.\n", 0.002),
        "table15k": (THINK + "## Labs\n\n" + table(300) + "\nDone.\n", 0.0005),
        "backticks": (THINK + "`" * 100_000, 0.0001),
        "code": (THINK + "```\n" + "".join(f"dose_{i} = weight_kg * 0.1  # mg\n" for i in range(1200)) + "```\n", 0.0002),
    }


class Heartbeat:
    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        if self.clock.isValid():
            self.gaps.append(self.clock.nsecsElapsed() / 1e6)
        self.clock.restart()

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps or [0.0]


def run_stream(app, name: str, reply: str, delay: float) -> str:
    view = ChatView()
    view.resize(900, 900)
    view.show()
    n_tokens = len(tokenize_for_replay(reply))
    backend = ScriptedBackend([reply], delay=delay, n_ctx=n_tokens + 4096)
    view.set_session(ChatSession(backend, "A long case.", Sampling(max_tokens=n_tokens + 10)), "A long case.")
    beat, done = Heartbeat(), {}
    t0 = time.perf_counter()
    view.generation_finished.connect(lambda reason: (done.update(reason=reason, t=time.perf_counter()), app.quit()))
    beat.start()
    QTimer.singleShot(0, lambda: view.send("Explain the case in depth."))
    app.exec()
    settle(app, view)
    gaps = beat.stop()
    msg = view.session.messages[-1]
    chars = len(msg.reasoning) + len(msg.content)
    line = (f"case={name} max_stall_ms={max(gaps):.1f} median_gap_ms={statistics.median(gaps):.1f} "
            f"chars={chars} seconds={done['t'] - t0:.1f} frames={view.frames} finish={done['reason']}")
    view.close()
    return line


def settle(app, view) -> None:
    """Let a long message finish rendering, chunk by chunk, before the heartbeat stops."""
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and any(getattr(w.answer, "rendering", False) for w in view.message_widgets()):
        app.processEvents()


def run_open(app, name: str) -> str:
    view = ChatView()
    view.resize(900, 900)
    view.show()
    if name == "vignette1mb":
        vignette = ("A 45-year-old presents with fatigue and weight loss over three months. " * 15000)[:1_000_000]
        messages = []
    else:
        vignette = "A long case."
        answer = "\n\n".join(ANSWER.strip() + "\n\n" + table(25) for _ in range(40))[:100_000]
        messages = [ChatMessage("user", "Explain."), ChatMessage("assistant", answer)]
    session = ChatSession(ScriptedBackend(["x"]), vignette, Sampling())
    session.messages.extend(messages)
    beat = Heartbeat()
    beat.start()
    t0 = time.perf_counter()
    QTimer.singleShot(20, lambda: view.set_session(session, vignette))
    QTimer.singleShot(40, app.quit)
    app.exec()
    settle(app, view)
    seconds = time.perf_counter() - t0
    end = time.perf_counter() + 0.1
    while time.perf_counter() < end:
        app.processEvents()
    gaps = beat.stop()
    view.close()
    return f"case={name} max_stall_ms={max(gaps):.1f} seconds={seconds:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", nargs="*", help="cases to run (default: all)")
    ap.add_argument("--tokens", type=int, default=2000, help="length of the prose case (default 2000)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cases = streamed(args.tokens)
    names = args.case or [*cases, "vignette1mb", "reopen100k"]
    worst = 0.0
    for name in names:
        line = run_stream(app, name, *cases[name]) if name in cases else run_open(app, name)
        print(line, flush=True)
        worst = max(worst, float(line.split("max_stall_ms=")[1].split()[0]))
    print(f"max_stall_ms={worst:.1f}")


if __name__ == "__main__":
    main()
