"""Where threads live: background tasks and the generation stream.

Worker code never touches widgets and never touches Qt signals: a worker hands a callback and
its arguments to an `Inbox` (a QObject on the GUI thread) which posts itself an event; the GUI
thread runs the callback when it handles the event. Database work goes through one
single-threaded pool so writes are serialized.

Why not queued signals: PySide emitting a signal on a worker thread, or destroying a QObject
there, can need the GIL while Qt holds one of the small pool of locks that every object's
connections share; the GUI thread, connecting or disconnecting at the same moment, holds such
a lock and waits for the GIL. Both threads then wait for ever (seen as rare hangs in CI, with a
stream's QThread deleting its worker). Posting an event takes only the receiving thread's
event-queue lock, which Qt never holds while it calls back into Python; and every QObject is
created and destroyed on the GUI thread.
"""

from __future__ import annotations

import collections
import itertools
import threading
import traceback
from typing import Any, Callable, Iterator

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThreadPool, Signal


_DELIVERY = QEvent.Type(QEvent.registerEventType())


class Inbox(QObject):
    """Runs callbacks on the GUI thread for any thread: `inbox.deliver(fn, *args)`. Deliveries
    queue up; one posted event at a time tells the GUI thread to run what is queued (a burst of
    streamed tokens costs one event, not one each), at most BATCH per event so the window stays
    responsive."""

    BATCH = 256

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._posted = False

    def deliver(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            self._queue.append((fn, args))
            if self._posted:
                return
            self._posted = True
        QCoreApplication.postEvent(self, QEvent(_DELIVERY))

    def event(self, e: QEvent) -> bool:  # noqa: D401 (Qt's virtual)
        if e.type() != _DELIVERY:
            return super().event(e)
        with self._lock:  # take a batch first: a callback may run a nested event loop
            batch = [self._queue.popleft() for _ in range(min(self.BATCH, len(self._queue)))]
            self._posted = bool(self._queue)
        if self._posted:  # more queued: after other events (and inside a nested loop, too)
            QCoreApplication.postEvent(self, QEvent(_DELIVERY))
        for fn, args in batch:
            fn(*args)
        return True


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

    unhandled_failure = Signal(str, str)  # message, detail (emitted on the GUI thread)

    def __init__(self, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._inbox = Inbox(self)
        self._live: dict[int, tuple[Callable | None, Callable | None, Callable | None]] = {}  # callbacks by task
        self._keys = itertools.count(1)
        self._closed = False

    def close(self) -> None:
        """The window is closing and the library is closed: later work and the callbacks of
        work still queued are dropped (they would touch a closed database)."""
        self._closed = True

    def report(self, exc: Exception, tb: str) -> None:
        self.unhandled_failure.emit(str(exc) or type(exc).__name__, getattr(exc, "detail", "") or tb)

    #: Set by the main window: sees every failure first and says what it means itself.
    #: "damage" (a damaged library: the restore offer replaces the task's own message),
    #: "said" (a full disk: the task's own handler still marks what was not saved, but no
    #: generic message is added), or None.
    watcher: Callable[[Exception], str | None] | None = None

    def _fail(self, exc: Exception, tb: str, on_error) -> None:
        if self._closed:
            return
        seen = self.watcher(exc) if self.watcher is not None else None
        if seen == "damage":
            return
        if on_error is not None:
            on_error(exc, tb)
        elif seen is None:
            self.report(exc, tb)

    def _on_submit_failed(self, exc, tb, on_error) -> None:
        self._fail(exc, tb, on_error)

    def run(self, fn: Callable[..., Any], on_success: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception, str], None] | None = None, guard: QObject | None = None,
            on_progress: Callable[[Any], None] | None = None) -> None:
        """`guard`: a widget the callbacks use; if it was deleted by the time the task ends
        (its window closed), the callbacks are skipped instead of touching a dead object.
        With `on_progress`, fn is called with a `report(value)` function; each value arrives
        at on_progress on the GUI thread."""
        if self._closed:
            return
        if guard is not None:
            on_success = _guarded(guard, on_success)
            on_error = _guarded(guard, on_error)
            on_progress = _guarded(guard, on_progress)
        key = next(self._keys)
        self._live[key] = (on_success, on_error, on_progress)
        inbox = self._inbox
        if on_progress is not None:
            work = lambda: fn(lambda value: inbox.deliver(self._deliver_progress, key, value))  # noqa: E731
        else:
            work = fn

        def job() -> None:  # a pool thread
            try:
                result = work()
            except Exception as exc:  # reported to the GUI, never swallowed
                inbox.deliver(self._deliver_error, key, exc, traceback.format_exc())
            else:
                inbox.deliver(self._deliver_ok, key, result)

        self.pool.start(job)

    def _deliver_ok(self, key: int, result: Any) -> None:
        on_success, _, _ = self._live.pop(key, (None, None, None))
        if on_success and not self._closed:
            on_success(result)

    def _deliver_error(self, key: int, exc: Exception, tb: str) -> None:
        _, on_error, _ = self._live.pop(key, (None, None, None))
        self._fail(exc, tb, on_error)

    def _deliver_progress(self, key: int, value: Any) -> None:
        entry = self._live.get(key)
        if entry is not None and entry[2] is not None and not self._closed:
            entry[2](value)

    def submit(self, fn: Callable[[], Any], on_error: Callable[[Exception, str], None] | None = None) -> None:
        """Fire and forget: safe to call from any thread, creates no QObject. A failure comes
        back to the GUI thread: to `on_error`, or else to `unhandled_failure`."""
        if self._closed:
            return
        inbox = self._inbox

        def job():
            try:
                fn()
            except Exception as exc:
                inbox.deliver(self._on_submit_failed, exc, traceback.format_exc(), on_error)

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


class Stream:
    """An event stream iterated on a Python thread; each event, a failure and the end are
    delivered to the GUI thread through an Inbox. `detach()` drops what has not arrived yet
    (another discussion was opened); `wait(ms)` joins the thread."""

    def __init__(self, parent: QObject, make_stream: Callable[[], Iterator[Any]], on_event: Callable[[Any], None],
                 on_failed: Callable[[Exception, str], None], on_done: Callable[[], None]) -> None:
        self.inbox = Inbox(parent)  # on the GUI thread; freed there, after the thread is joined
        self._callbacks = (on_event, on_failed, on_done)
        self._attached = True
        self._thread = threading.Thread(target=self._run, args=(make_stream,), name="gazal-stream", daemon=True)

    def start(self) -> "Stream":
        self._thread.start()
        return self

    def _run(self, make_stream) -> None:  # the stream's thread
        inbox = self.inbox
        try:
            for ev in make_stream():
                inbox.deliver(self._event, ev)
        except Exception as exc:
            inbox.deliver(self._failed, exc, traceback.format_exc())
        finally:
            inbox.deliver(self._done)

    def _event(self, ev) -> None:
        if self._attached:
            self._callbacks[0](ev)

    def _failed(self, exc, tb) -> None:
        if self._attached:
            self._callbacks[1](exc, tb)

    def _done(self) -> None:
        self._thread.join()  # it has posted its last event: a moment
        if self._attached:
            self._callbacks[2]()
        if shiboken6.isValid(self.inbox):
            self.inbox.deleteLater()

    def detach(self) -> None:
        self._attached = False

    def wait(self, ms: int = 10000) -> bool:
        self._thread.join(ms / 1000)
        return not self._thread.is_alive()


def start_stream(parent: QObject, make_stream: Callable[[], Iterator[Any]], on_event: Callable[[Any], None],
                 on_failed: Callable[[Exception, str], None], on_done: Callable[[], None]) -> Stream:
    """Run a stream on a new thread; its events arrive at the callbacks on the GUI thread."""
    return Stream(parent, make_stream, on_event, on_failed, on_done).start()
