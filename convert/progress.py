"""Progress reporting for downloads, conversion and quantization.

The pipeline only calls :class:`Progress` methods; the CLI picks a terminal bar or JSON
lines (what the desktop app reads when it runs gazal-convert in the background).
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO


class Progress:
    """Silent progress: the base class and what library callers get by default."""

    def start(self, stage: str, total_bytes: int, total_items: int) -> None:
        pass

    def advance(self, nbytes: int, items: int = 0, label: str = "") -> None:
        pass

    def finish(self) -> None:
        pass

    def message(self, text: str) -> None:
        pass


class BarProgress(Progress):
    """tqdm bars on stderr: bytes with rate and ETA, tensors done in the postfix."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._bar = None
        self._items = 0
        self._total_items = 0

    def start(self, stage: str, total_bytes: int, total_items: int) -> None:
        from tqdm import tqdm

        self.finish()
        self._items, self._total_items = 0, total_items
        self._bar = tqdm(
            total=total_bytes, desc=stage, unit="B", unit_scale=True, unit_divisor=1024,
            file=self.stream, dynamic_ncols=True, mininterval=0.2,
        )
        self._bar.set_postfix_str(f"0/{total_items} tensors", refresh=False)

    def advance(self, nbytes: int, items: int = 0, label: str = "") -> None:
        if self._bar is None:
            return
        self._items += items
        if items or label:
            post = f"{self._items}/{self._total_items} tensors"
            self._bar.set_postfix_str(f"{post} {label}".rstrip(), refresh=False)
        self._bar.update(nbytes)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)


class JsonProgress(Progress):
    """One JSON object per line, at most every `interval` seconds per stage."""

    def __init__(self, stream: IO[str] | None = None, interval: float = 0.25) -> None:
        self.stream = stream or sys.stdout
        self.interval = interval
        self._state: dict = {}
        self._t0 = 0.0
        self._last = 0.0

    def _emit(self, **extra) -> None:
        elapsed = time.monotonic() - self._t0
        done, total = self._state.get("bytes", 0), self._state.get("total_bytes", 0)
        eta = (elapsed / done * (total - done)) if done and total else None
        rec = dict(self._state, elapsed_s=round(elapsed, 2), eta_s=None if eta is None else round(eta, 1), **extra)
        self.stream.write(json.dumps(rec) + "\n")
        self.stream.flush()

    def start(self, stage: str, total_bytes: int, total_items: int) -> None:
        self._t0 = self._last = time.monotonic()
        self._state = {"event": "progress", "stage": stage, "bytes": 0, "total_bytes": total_bytes,
                       "items": 0, "total_items": total_items, "label": ""}
        self._emit()

    def advance(self, nbytes: int, items: int = 0, label: str = "") -> None:
        if not self._state:
            return
        self._state["bytes"] += nbytes
        self._state["items"] += items
        if label:
            self._state["label"] = label
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._emit()

    def finish(self) -> None:
        if self._state:
            self._emit(done=True)
            self._state = {}

    def message(self, text: str) -> None:
        self.stream.write(json.dumps({"event": "message", "text": text}) + "\n")
        self.stream.flush()
