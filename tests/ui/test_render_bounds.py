"""Long and hostile answers render in bounded work per frame, and nothing is lost on screen.

(Speed is measured in benchmarks/ui_bench.py; these tests check what the learner sees.)"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from gazal_desktop.ui.markdown import MAX_TABLE_ROWS, MarkdownView, shown_vignette


def _tables(view: MarkdownView) -> int:
    cursor, seen = QTextCursor(view.document()), set()
    while True:
        table = cursor.currentTable()
        if table is not None:
            seen.add(id(table))
        if not cursor.movePosition(QTextCursor.MoveOperation.NextBlock):
            return len(seen)


def _table(rows: int) -> str:
    return "| Test | Result |\n|---|---|\n" + "".join(f"| sodium-{i} | {130 + i % 10} mmol/L |\n" for i in range(rows))


def _stream(view: MarkdownView, text: str, step: int = 7) -> None:
    for end in range(step, len(text) + step, step):
        view.stream_markdown(text[:end])


def test_a_table_is_text_while_it_streams_and_a_table_once_complete(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    text = "## Labs\n\n" + _table(12)
    _stream(view, text)
    assert _tables(view) == 0 and "sodium-11" in view.toPlainText()  # written as it comes, not laid out
    view.set_markdown(text + "\nThe sodium is low.\n")
    qtbot.waitUntil(lambda: not view.rendering)
    assert _tables(view) == 1 and "sodium-11" in view.toPlainText() and "The sodium is low." in view.toPlainText()


def test_a_huge_table_is_shown_as_text_with_every_cell(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown("Results:\n\n" + _table(MAX_TABLE_ROWS + 60))
    qtbot.waitUntil(lambda: not view.rendering)
    shown = view.toPlainText()
    assert _tables(view) == 0 and "A large table" in shown
    assert all(f"sodium-{i} " in shown for i in range(MAX_TABLE_ROWS + 60))
    small = MarkdownView()
    qtbot.addWidget(small)
    small.set_markdown(_table(MAX_TABLE_ROWS))
    assert _tables(small) == 1  # up to the limit a table is a table


def test_a_long_message_renders_in_pieces_and_ends_whole(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    grown = []
    view.on_grow = lambda: grown.append(len(view.toPlainText()))
    paragraphs = [f"Paragraph {i}: the patient's history, examination and results, discussed." for i in range(2000)]
    view.set_markdown("\n\n".join(paragraphs))
    assert view.rendering and "Paragraph 1999" not in view.toPlainText()  # the rest follows, turn by turn
    qtbot.waitUntil(lambda: not view.rendering, timeout=20000)
    assert "Paragraph 1999" in view.toPlainText() and len(grown) > 5 and grown == sorted(grown)
    view.set_markdown("Short now.")  # a new text stops the old one's remaining pieces
    qtbot.wait(50)
    assert view.toPlainText().strip() == "Short now."


def test_a_streamed_code_block_or_long_line_keeps_every_character(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    code = "```\n" + "".join(f"dose_{i} = weight_kg * 0.1\n" for i in range(400)) + "```\n"
    _stream(view, "Doses:\n\n" + code, step=31)
    assert "dose_399" in view.toPlainText()
    view.set_markdown("Doses:\n\n" + code)
    qtbot.waitUntil(lambda: not view.rendering)
    shown = view.toPlainText()
    assert all(f"dose_{i} = weight_kg" in shown for i in range(400))
    ticks = "Output: " + "`" * 30_000
    line = MarkdownView()
    qtbot.addWidget(line)
    _stream(line, ticks, step=997)
    assert line.toPlainText().replace("\n", "").replace("\u2029", "") == ticks  # shown broken, nothing lost
    line.set_markdown(ticks)
    qtbot.waitUntil(lambda: not line.rendering)
    assert line.toPlainText().rstrip() == ticks  # the finished answer has the line as written


def test_a_huge_vignette_is_shortened_on_screen_but_sent_whole(qtbot):
    from gazal_desktop.core.chat import ChatSession
    from gazal_desktop.core.sampling import Sampling
    from gazal_desktop.core.scripted import ScriptedBackend
    from gazal_desktop.ui.chat_view import ChatView

    vignette = "A 45-year-old presents with fatigue and weight loss. " * 20_000  # about 1 MB
    view = ChatView()
    qtbot.addWidget(view)
    view.set_session(ChatSession(ScriptedBackend(["x"]), vignette, Sampling()), vignette)
    shown = view.vignette.text()
    assert len(shown) < 5000 and "more characters" in shown and shown.startswith("A 45-year-old")
    assert view.session.vignette == vignette
    assert shown_vignette("Short case.") == "Short case."
