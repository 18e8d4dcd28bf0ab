"""Capture llama.cpp's log lines (quantizer progress, load errors) while a call runs."""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from typing import Callable


class LlamaLog:
    """Context manager: route llama.cpp's log to `on_text` and keep the recent lines.

    llama-cpp-python installs its own callback at import; it is put back on exit.
    """

    def __init__(self, on_text: Callable[[str], None] | None = None, keep: int = 200) -> None:
        self.on_text = on_text
        self.lines: deque[str] = deque(maxlen=keep)
        self._partial = ""
        self._lock = threading.Lock()
        self._cb = None

    def __enter__(self) -> "LlamaLog":
        import llama_cpp

        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            try:
                s = text.decode("utf-8", errors="replace") if text else ""
                with self._lock:
                    self._partial += s
                    *done, self._partial = self._partial.split("\n")
                    self.lines.extend(done)
                if self.on_text is not None:
                    self.on_text(s)
            except Exception:  # an exception must never unwind into C
                pass

        # Keep a reference: ctypes frees the trampoline if the Python object dies.
        self._cb = llama_cpp.llama_log_callback(callback)
        llama_cpp.llama_log_set(self._cb, ctypes.c_void_p(0))
        return self

    def __exit__(self, *exc) -> None:
        import llama_cpp

        try:
            from llama_cpp import _logger

            llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        except (ImportError, AttributeError):  # pragma: no cover - older/newer bindings
            pass
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""

    def tail(self, n: int = 8, contains: tuple[str, ...] = ()) -> str:
        with self._lock:
            lines = [l.strip() for l in self.lines if l.strip()]
        if contains:
            picked = [l for l in lines if any(c in l.lower() for c in contains)]
            lines = picked or lines
        return "\n".join(lines[-n:])


def load_llama(path, **kwargs):
    """``llama_cpp.Llama(model_path=path, **kwargs)``, quiet, without touching file descriptors.

    llama-cpp-python's ``verbose=False`` silences a load by dup2()-ing /dev/null over file
    descriptors 1 and 2 for its duration: process-wide, so in the desktop app it also swallows
    what other threads write, and on a CUDA build of llama-cpp-python 0.3.36 every load made
    that way crashed in llama.cpp's model loader (benchmarks/gpu_probe.py, H100), while the
    same loads with ``verbose=True`` succeeded. Here the load runs with ``verbose=True``:
    llama.cpp's log goes to the LlamaLog a caller holds (or to llama-cpp-python's printer,
    captured here with Python's own prints), and afterwards only errors are logged.
    """
    import contextlib
    import io

    from llama_cpp import Llama
    from llama_cpp import _logger

    kwargs.pop("verbose", None)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        llm = Llama(model_path=str(path), verbose=True, **kwargs)
    _logger.set_verbose(False)
    llm.verbose = False
    return llm
