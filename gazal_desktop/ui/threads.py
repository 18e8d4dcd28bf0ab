"""Where threads live: background tasks and the generation stream.

Worker code never touches widgets; results come back to the GUI thread through queued
signals. Database work goes through one single-threaded pool so writes are serialized.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Iterator

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot


class _TaskSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object, str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the GUI, never swallowed
            self.signals.failed.emit(exc, traceback.format_exc())
        else:
            self.signals.succeeded.emit(result)


def _guarded(guard: QObject, fn: Callable | None) -> Callable | None:
    if fn is None:
        return None

    def call(*args):
        if shiboken6.isValid(guard):
            fn(*args)

    return call


class TaskRunner(QObject):
    """`runner.run(fn, on_success, on_error)`: fn runs off the GUI thread, callbacks on it."""

    def __init__(self, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._live: set[_Task] = set()

    def run(self, fn: Callable[[], Any], on_success: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception, str], None] | None = None, guard: QObject | None = None) -> None:
        """`guard`: a widget the callbacks use; if it was deleted by the time the task ends
        (its window closed), the callbacks are skipped instead of touching a dead object."""
        if guard is not None:
            on_success = _guarded(guard, on_success)
            on_error = _guarded(guard, on_error)
        task = _Task(fn)
        task.setAutoDelete(False)
        self._live.add(task)

        def done_ok(result):
            self._live.discard(task)
            if on_success:
                on_success(result)

        def done_err(exc, tb):
            self._live.discard(task)
            if on_error:
                on_error(exc, tb)

        task.signals.succeeded.connect(done_ok)
        task.signals.failed.connect(done_err)
        self.pool.start(task)

    def submit(self, fn: Callable[[], Any]) -> None:
        """Fire and forget (no callbacks): safe to call from any thread, creates no QObject."""
        def job():
            try:
                fn()
            except Exception:  # nothing to report to: print rather than lose it silently
                traceback.print_exc()

        self.pool.start(job)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)


class StreamWorker(QObject):
    """Iterates an event stream on its own thread and emits each event."""

    event = Signal(object)
    failed = Signal(object, str)
    done = Signal()

    def __init__(self, make_stream: Callable[[], Iterator[Any]]) -> None:
        super().__init__()
        self._make = make_stream

    @Slot()
    def run(self) -> None:
        try:
            for ev in self._make():
                self.event.emit(ev)
        except Exception as exc:
            self.failed.emit(exc, traceback.format_exc())
        finally:
            self.done.emit()


def start_stream(parent: QObject, make_stream: Callable[[], Iterator[Any]], on_event: Callable[[Any], None],
                 on_failed: Callable[[Exception, str], None], on_done: Callable[[], None]) -> tuple[QThread, StreamWorker]:
    """Run a stream on a new thread. Slots are connected before the thread starts, so a
    fast stream cannot finish before anyone listens."""
    thread = QThread(parent)
    worker = StreamWorker(make_stream)
    worker.moveToThread(thread)
    worker.event.connect(on_event)
    worker.failed.connect(on_failed)
    worker.done.connect(on_done)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread, worker
