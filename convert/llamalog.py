"""Capture llama.cpp's log lines (quantizer progress, load errors) while a call runs."""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from typing import Callable


class _StderrTap:
    """Stands in for sys.stderr while a LlamaLog is open: each write goes to the log."""

    def __init__(self, log: "LlamaLog", previous) -> None:
        self.log = log
        self.previous = previous

    def write(self, s: str) -> int:
        self.log._feed(s)
        return len(s)

    def flush(self) -> None:
        pass

    def __getattr__(self, name):  # encoding, fileno, isatty...: the real stream's
        return getattr(self.previous, name)


class LlamaLog:
    """Context manager: route llama.cpp's log to `on_text` and keep the recent lines.

    No callback of our own is handed to llama.cpp: llama-cpp-python's module-level log
    printer stays installed, is told to pass every line on, and its prints (to Python's
    sys.stderr, not the file descriptor) are taken in here. A ctypes callback made per call
    can be freed while llama.cpp still holds it, and loads through such a callback crashed
    on the CUDA build (benchmarks/gpu_probe.py); the printer lives as long as the process.
    sys.stderr is process-wide: what other threads print meanwhile is kept here too.
    """

    def __init__(self, on_text: Callable[[str], None] | None = None, keep: int = 200) -> None:
        self.on_text = on_text
        self.lines: deque[str] = deque(maxlen=keep)
        self._partial = ""
        self._lock = threading.Lock()
        self._saved = None

    def _feed(self, s: str) -> None:
        try:
            with self._lock:
                self._partial += s
                *done, self._partial = self._partial.split("\n")
                self.lines.extend(done)
            if self.on_text is not None:
                self.on_text(s)
        except Exception:  # a log line must never break the call it describes
            pass

    def __enter__(self) -> "LlamaLog":
        import sys

        import llama_cpp
        from llama_cpp import _logger

        self._saved = (sys.stderr, _logger.logger.level)
        _logger.logger.setLevel(logging.DEBUG)
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        sys.stderr = _StderrTap(self, sys.stderr)
        return self

    def __exit__(self, *exc) -> None:
        import sys

        from llama_cpp import _logger

        previous, level = self._saved
        if isinstance(sys.stderr, _StderrTap) and sys.stderr.log is self:
            sys.stderr = previous
        # Back to what it was; "not set" (no Llama made yet) would print every line: errors only.
        _logger.logger.setLevel(level or logging.ERROR)
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
    llama.cpp's log goes to the LlamaLog a caller holds (or is dropped with the Python-level
    prints of verbose mode), and afterwards only errors are logged.
    """
    import contextlib
    import io

    from llama_cpp import Llama
    from llama_cpp import _logger

    import sys

    kwargs.pop("verbose", None)
    sink = io.StringIO()
    quiet_err = contextlib.nullcontext() if isinstance(sys.stderr, _StderrTap) else contextlib.redirect_stderr(sink)
    level = _logger.logger.level
    with contextlib.redirect_stdout(sink), quiet_err:
        llm = Llama(model_path=str(path), verbose=True, **kwargs)
    _logger.logger.setLevel(level if isinstance(sys.stderr, _StderrTap) else logging.ERROR)
    llm.verbose = False
    return llm
