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
    progressed = Signal(object)  # emitted on the worker thread, delivered on the GUI thread


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
    """`runner.run(fn, on_success, on_error)`: fn runs off the GUI thread, callbacks on it.

    Nothing fails silently: a task without an error callback (and every fire-and-forget
    `submit`) reports its failure through `unhandled_failure`, which the main window shows
    to the learner with the detail one click away.
    """

    unhandled_failure = Signal(str, str)  # message, detail
    _submit_failed = Signal(object, str, object)  # exc, traceback, on_error (from a worker thread)

    def __init__(self, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._live: set[_Task] = set()
        self._closed = False
        self._submit_failed.connect(self._on_submit_failed)  # queued: arrives on the GUI thread

    def close(self) -> None:
        """The window is closing and the library is closed: later work and the callbacks of
        work still queued are dropped (they would touch a closed database)."""
        self._closed = True

    def report(self, exc: Exception, tb: str) -> None:
        self.unhandled_failure.emit(str(exc) or type(exc).__name__, getattr(exc, "detail", "") or tb)

    def _on_submit_failed(self, exc, tb, on_error) -> None:
        if self._closed:
            return
        if on_error is not None:
            on_error(exc, tb)
        else:
            self.report(exc, tb)

    def run(self, fn: Callable[..., Any], on_success: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception, str], None] | None = None, guard: QObject | None = None,
            on_progress: Callable[[Any], None] | None = None) -> None:
        """`guard`: a widget the callbacks use; if it was deleted by the time the task ends
        (its window closed), the callbacks are skipped instead of touching a dead object.
        With `on_progress`, fn is called with a `report(value)` function; each value arrives
        at on_progress on the GUI thread (a signal, never a shared variable polled)."""
        if self._closed:
            return
        if guard is not None:
            on_success = _guarded(guard, on_success)
            on_error = _guarded(guard, on_error)
            on_progress = _guarded(guard, on_progress)
        task = _Task(fn)
        if on_progress is not None:
            task.fn = lambda: fn(task.signals.progressed.emit)
            task.signals.progressed.connect(on_progress)
        task.setAutoDelete(False)
        self._live.add(task)

        def done_ok(result):
            self._live.discard(task)
            if on_success and not self._closed:
                on_success(result)

        def done_err(exc, tb):
            self._live.discard(task)
            if self._closed:
                return
            if on_error:
                on_error(exc, tb)
            else:
                self.report(exc, tb)

        task.signals.succeeded.connect(done_ok)
        task.signals.failed.connect(done_err)
        self.pool.start(task)

    def submit(self, fn: Callable[[], Any], on_error: Callable[[Exception, str], None] | None = None) -> None:
        """Fire and forget: safe to call from any thread, creates no QObject. A failure comes
        back to the GUI thread: to `on_error`, or else to `unhandled_failure`."""
        if self._closed:
            return

        def job():
            try:
                fn()
            except Exception as exc:
                self._submit_failed.emit(exc, traceback.format_exc(), on_error)

        self.pool.start(job)

    def operation(self, fn: Callable[[], Any]) -> "Operation":
        return Operation(self, fn)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)


class Operation:
    """Anki-style background work: ``runner.operation(fn).success(cb).failure(cb).run()``.

    Without a failure callback the failure is shown to the learner (`unhandled_failure`).
    """

    def __init__(self, runner: TaskRunner, fn: Callable[[], Any]) -> None:
        self.runner, self.fn = runner, fn
        self._ok: Callable[[Any], None] | None = None
        self._err: Callable[[Exception, str], None] | None = None
        self._guard: QObject | None = None

    def success(self, cb: Callable[[Any], None]) -> "Operation":
        self._ok = cb
        return self

    def failure(self, cb: Callable[[Exception, str], None]) -> "Operation":
        self._err = cb
        return self

    def guarded_by(self, widget: QObject) -> "Operation":
        self._guard = widget
        return self

    def run(self) -> None:
        self.runner.run(self.fn, self._ok, self._err, guard=self._guard)


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
