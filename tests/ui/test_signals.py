"""Qt signals can be emitted for as long as the app runs (a streamed answer emits thousands)."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    event = Signal(object)


def test_thousands_of_emits_leave_reference_counts_alone(qapp):
    e = _Emitter()
    got = []
    e.event.connect(got.append)
    before = sys.getrefcount(True)
    for i in range(20000):
        e.event.emit(i)
    assert len(got) == 20000
    assert abs(sys.getrefcount(True) - before) < 100
