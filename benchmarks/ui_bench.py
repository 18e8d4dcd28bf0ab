"""Does the window stay responsive while an answer streams?

    python benchmarks/ui_bench.py [--tokens 2000] [--delay 0]

A heartbeat timer ticks every 5 ms on the GUI thread while a fast scripted backend streams
a long Markdown answer (with reasoning) into the real ChatView. The longest gap between
ticks is the longest stall the learner could notice. Target: <= 50 ms.
Last line: `max_stall_ms=X`.
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

from gazal_desktop.core.chat import ChatSession  # noqa: E402
from gazal_desktop.core.sampling import Sampling  # noqa: E402
from gazal_desktop.core.scripted import DEMO_REPLY, ScriptedBackend, tokenize_for_replay  # noqa: E402
from gazal_desktop.ui.chat_view import ChatView  # noqa: E402


def long_reply(tokens: int) -> str:
    think, answer = DEMO_REPLY.split("</think>")
    text = think + "</think>" + answer
    while len(tokenize_for_replay(text)) < tokens:
        text += "\n\n" + answer.strip()
    return "".join(tokenize_for_replay(text)[:tokens])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--delay", type=float, default=0.002,
                    help="seconds between tokens (default 0.002: 500 tokens/s, far faster than a local 32B model)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = ChatView()
    view.resize(900, 900)
    view.show()
    backend = ScriptedBackend([long_reply(args.tokens)], delay=args.delay)
    view.set_session(ChatSession(backend, "A long case.", Sampling(max_tokens=args.tokens + 10)), "A long case.")

    gaps: list[float] = []
    clock = QElapsedTimer()
    beat = QTimer()
    beat.setInterval(5)

    def tick():
        if clock.isValid():
            gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    beat.timeout.connect(tick)
    t0 = time.perf_counter()
    done = {}
    view.generation_finished.connect(lambda reason: (done.update(reason=reason, t=time.perf_counter()), app.quit()))
    beat.start()
    QTimer.singleShot(0, lambda: view.send("Explain the case in depth."))
    app.exec()
    beat.stop()
    elapsed = done["t"] - t0
    reply = view.session.messages[-1]
    usage = reply.usage
    print(f"streamed {usage.completion_tokens} tokens ({len(reply.reasoning) + len(reply.content):,} characters) "
          f"in {elapsed:.2f} s ({usage.completion_tokens / elapsed:,.0f} tokens/s), finish: {done['reason']}")
    if not gaps:
        print("the stream finished before the first heartbeat; use --delay to pace it")
        gaps = [0.0]
    print(f"redraws: {view.frames} frames of {1000 // 33} fps max; heartbeat ticks: {len(gaps)}, "
          f"median gap {statistics.median(gaps):.1f} ms, p99 {sorted(gaps)[int(0.99 * (len(gaps) - 1))]:.1f} ms")
    print(f"max_stall_ms={max(gaps):.1f}")


if __name__ == "__main__":
    main()
