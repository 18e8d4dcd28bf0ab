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
