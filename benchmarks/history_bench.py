"""Reopening a long discussion: read it from the library and show it, with versions.

    python benchmarks/history_bench.py [--messages 200] [--runs 5]

Builds a discussion of `--messages` messages in a real library file (half the learner's,
half replies with Markdown and reasoning; every fifth reply regenerated twice, so it has
three versions; one edited-away branch), then times, offscreen:

- `ChatStore.load_thread` (the database read, on the database thread in the app);
- `ChatView.set_session` (building every message widget, rendering the Markdown);
- the two together, what a learner waits for after clicking the case: target <= 150 ms.
  The view opens on the latest messages (ChatView PAGE); "Show earlier messages" adds the
  rest a page at a time, and the time to show them all is printed too.

Compared in the same run with reading the same rows with one plain SELECT (the floor).
The last line is `reopen_ms=… load_ms=… render_ms=…` (medians).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gazal_desktop.core.chat import ChatMessage, ChatSession  # noqa: E402
from gazal_desktop.core.events import Usage  # noqa: E402
from gazal_desktop.library import open_library  # noqa: E402
from gazal_desktop.library.cases import CaseStore  # noqa: E402
from gazal_desktop.library.chats import ChatStore  # noqa: E402

ANSWER = ("## Primary Diagnosis\nInferior STEMI with right ventricular involvement.\n\n## Reasoning\n"
          "- ST elevation in II, III and aVF\n- Hypotension after nitrates\n\n## Immediate Management\n"
          "1. Aspirin\n2. Fluids, no nitrates\n3. Primary PCI\n\n## Follow-up\nEchocardiogram.")
REASONING = "\n".join(f"Step {i}: a consideration about the case, written out in full." for i in range(1, 9))


def build(folder: Path, n: int) -> tuple[object, int, int]:
    lib, _ = open_library(folder)
    case = CaseStore(lib).list(sort="title")[0]
    chats = ChatStore(lib)
    rec = chats.recorder(case.id)
    for i in range(n // 2):
        user = ChatMessage("user", f"Question {i}: what next, and why?")
        rec.save(user)
        versions = 3 if i % 5 == 0 else 1
        prev = None
        for v in range(versions):
            reply = ChatMessage("assistant", f"{ANSWER}\n\nVersion {v + 1} of reply {i}.", REASONING,
                                usage=Usage(900 + i, 350, 880, 0.4, 2100.0, 31.5, 6.2), reasoning_seconds=6.2,
                                replaces=prev.uid if prev else None)
            rec.save(reply)
            prev = reply
    stray = ChatMessage("user", "An edited-away question")
    rec.save(stray)
    rec.supersede([stray])
    return lib, case.id, rec.conv_id


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    from gazal_desktop.ui.chat_view import ChatView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    lib, case_id, conv_id = build(Path(tempfile.mkdtemp(prefix="gazal-history-bench-")), args.messages)
    chats = ChatStore(lib)
    view = ChatView()
    view.resize(900, 900)
    view.show()
    app.processEvents()
    vignette = CaseStore(lib).get(case_id).vignette
    plain, loads, renders, totals = [], [], [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        lib.db.conn.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conv_id,)).fetchall()
        plain.append(time.perf_counter() - t0)
        view.set_session(None, "")
        app.processEvents()
        t0 = time.perf_counter()
        thread = chats.load_thread(conv_id)
        t1 = time.perf_counter()
        session = ChatSession(None, vignette)
        session.messages, session.versions = thread.messages, thread.versions
        view.set_session(session, vignette)
        app.processEvents()  # the first paint
        t2 = time.perf_counter()
        loads.append(t1 - t0)
        renders.append(t2 - t1)
        totals.append(t2 - t0)
    shown = len(view.message_widgets())
    with_versions = sum(1 for w in view.message_widgets() if len(w.versions) > 1)
    t0 = time.perf_counter()
    while view.earlier_button.isVisible():  # the learner scrolls back through everything
        view.show_earlier()
    app.processEvents()
    everything = time.perf_counter() - t0
    all_shown = len(view.message_widgets())
    med = lambda xs: 1000 * statistics.median(xs)  # noqa: E731
    print(f"discussion: {all_shown} messages ({len(chats.messages(conv_id))} rows with versions and an edited-away "
          f"branch); opens on the latest {shown} ({with_versions} of them with 3 versions); "
          f"showing all {all_shown - shown} earlier ones took {1000 * everything:.0f} ms more")
    print(f"plain SELECT of the rows: {med(plain):.1f} ms | load_thread: {med(loads):.1f} ms | "
          f"set_session + first paint: {med(renders):.1f} ms | reopen total: {med(totals):.1f} ms "
          f"(median of {args.runs}; target <= 150 ms)")
    print(f"reopen_ms={med(totals):.1f} load_ms={med(loads):.1f} render_ms={med(renders):.1f}")
    lib.close(backup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
