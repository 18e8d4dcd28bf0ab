"""``gazal-desktop --self-test``: proves an installed copy works end to end, then exits.

Run on a built bundle (and from a wheel) by CI, and by a learner who wants to know whether
their install is sound. In a throwaway folder it:

1. opens a new case library (a real SQLite file with the starter cases) and shows the main
   window (offscreen unless a display is asked for);
2. builds a tiny random-weight Qwen3 checkpoint and converts it with gazal-convert (q8_0);
3. loads that GGUF through the real llama.cpp backend, sends a question about a case from
   the chat view and waits for the streamed reply to finish and be saved.

Nothing of the learner's (library, settings, models) is read or written. Each step prints
one line with its time; the exit code is 0 only when every step passed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

# A tiny model: 2 layers, hidden 256, a 512-token vocabulary (about 1 MB as q8_0).
_TINY = dict(n_layers=2, hidden=256, n_head=4, n_head_kv=2, head_dim=64, ffn=512, vocab_size=512)
TIMEOUT_S = 120.0


class SelfTestFailed(Exception):
    pass


def _wait(app, done: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    """Run the event loop until done() or the timeout (the GUI keeps working meanwhile)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SelfTestFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def build_tiny_gguf(folder: Path, threads: int = 2) -> Path:
    """A tiny random Qwen3 converted by gazal-convert, as a learner's own conversion would be."""
    from gazal_convert.cli import main as convert_main
    from gazal_convert.synthetic import SyntheticSpec, build_checkpoint

    ckpt = build_checkpoint(folder / "tiny-qwen3", SyntheticSpec(**_TINY))
    out = folder / "tiny-qwen3-q8_0.gguf"
    rc = convert_main([str(ckpt), "--quant", "q8_0", "--outfile", str(out), "--progress", "none",
                       "--threads", str(threads)])
    if rc != 0 or not out.is_file():
        raise SelfTestFailed(f"gazal-convert exited with {rc}")
    return out


def run(show: bool = False, out: Callable[[str], None] | None = None) -> int:
    """Every step, in order; 0 when all passed."""
    if not show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = out or (lambda line: print(line, flush=True))
    t_start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="gazal-self-test-"))
    os.environ["GAZAL_DATA_DIR"] = str(work / "data")  # never the learner's folder
    state: dict = {}

    def step(name: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        detail = fn()
        out(f"ok   {name} ({time.perf_counter() - t0:.2f} s){': ' + detail if detail else ''}")

    try:
        from gazal_desktop import __version__
        from gazal_desktop.core.hardware import llama_build

        out(f"gazal-desktop {__version__} self-test in {work}")
        step("llama.cpp build", lambda: llama_build().describe())

        def qt() -> str:
            from PySide6 import __version__ as pyside_version
            from PySide6.QtWidgets import QApplication

            state["app"] = QApplication.instance() or QApplication(sys.argv[:1])
            return f"PySide6 {pyside_version}, platform {state['app'].platformName()}"

        step("Qt", qt)

        def library() -> str:
            from gazal_desktop.ui.threads import TaskRunner
            from gazal_desktop.app import open_library_or_recover

            state["runner"] = TaskRunner(1)
            lib = open_library_or_recover(state["runner"], work / "data")
            if lib is None:
                raise SelfTestFailed("the library could not be opened")
            state["library"] = lib
            return f"{lib.path.name}"

        step("case library", library)

        def window() -> str:
            from gazal_desktop.core.settings import AppSettings
            from gazal_desktop.ui.main_window import MainWindow

            w = MainWindow(work / "data", AppSettings(), state["library"], state["runner"])
            state["window"] = w
            w.show()
            _wait(state["app"], lambda: w.library_pane.loaded, "the case list")
            return f"{w.library_pane.list.count()} cases listed"

        step("main window", window)

        def model() -> str:
            state["gguf"] = build_tiny_gguf(work, threads=min(4, os.cpu_count() or 1))
            return f"{state['gguf'].name}, {state['gguf'].stat().st_size / 1e6:.1f} MB"

        step("convert a tiny Qwen3 with gazal-convert", model)

        def load() -> str:
            from gazal_desktop.core.backends.local import LocalBackend, LocalSettings

            backend = LocalBackend.load(state["gguf"], LocalSettings(n_ctx=1024, n_threads=min(4, os.cpu_count() or 1)))
            state["window"].set_backend(backend)
            return f"context {backend.n_ctx} tokens, GPU layers {backend.settings.n_gpu_layers}"

        step("load the GGUF in llama.cpp", load)

        def chat() -> str:
            from gazal_desktop.library.chats import ChatStore

            w = state["window"]
            w.library_pane.list.setCurrentRow(0)
            _wait(state["app"], lambda: w.chat_view.session is not None, "the case's discussion")
            w.chat_view.session.sampling = type(w.chat_view.session.sampling)(max_tokens=24, seed=1)
            w.chat_view.send("What is the most likely diagnosis?")
            _wait(state["app"], lambda: not w.chat_view.generating, "the streamed reply")
            w.runner.wait()
            reply = w.chat_view.session.messages[-1]
            if reply.role != "assistant" or reply.status not in ("complete", "partial"):
                raise SelfTestFailed(f"the reply ended as {reply.status!r}: {reply.error or ''}")
            if reply.usage is None or reply.usage.completion_tokens < 1:
                raise SelfTestFailed("the model produced no tokens")
            (conv,) = ChatStore(w.library).conversations(w.case.id)
            saved = ChatStore(w.library).messages(conv.id)
            if [m.role for m in saved] != ["user", "assistant"]:
                raise SelfTestFailed(f"the discussion was not saved: {[m.role for m in saved]}")
            u = reply.usage
            rate = f", {u.gen_tps:.0f} tok/s" if u.gen_tps else ""
            return f"{u.completion_tokens} tokens streamed and saved{rate}"

        step("discuss a case", chat)
        state["window"].close()
        out(f"self-test passed in {time.perf_counter() - t_start:.1f} s")
        return 0
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is raised
        out(f"FAIL {type(exc).__name__}: {exc}")
        if not isinstance(exc, SelfTestFailed):
            out(traceback.format_exc())
        return 1
    finally:
        import shutil

        window = state.get("window")
        if window is not None and window.isVisible():
            window.close()
        shutil.rmtree(work, ignore_errors=True)
