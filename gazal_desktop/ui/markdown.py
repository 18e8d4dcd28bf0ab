"""Answers as safe rich text: markdown-it-py with raw HTML off; nothing remote is loaded."""

from __future__ import annotations

import html
from typing import Callable

from markdown_it import MarkdownIt
from PySide6.QtCore import QByteArray, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextBlockFormat, QTextCharFormat
from PySide6.QtWidgets import QMessageBox, QTextBrowser

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _image_as_text(self, tokens, idx, options, env) -> str:
    """An image is never loaded, from any scheme or path: it is shown as its alt text."""
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return f"[image: {html.escape(alt or 'no description')}]"


_MD.add_render_rule("image", _image_as_text)

CSS = """
h1, h2, h3 { margin: 6px 0 2px 0; }
h2 { font-size: 1.1em; }
p, li { margin: 2px 0; }
code { background: rgba(127,127,127,0.15); }
table { border-collapse: collapse; }
td, th { border: 1px solid rgba(127,127,127,0.4); padding: 2px 6px; }
"""


MAX_TABLE_ROWS = 40  # a bigger table is shown as aligned text: Qt lays tables out slowly
MAX_TABLE_CHARS = 6000
CHUNK_CHARS = 4000  # a long message is rendered this much per event-loop turn
LONG_LINE = 400  # a streamed plain line is shown broken at this width
TAIL_RICH_CHARS = 1500  # the block being streamed is redrawn as rich text only up to this size


def esc_html(text: str) -> str:
    """Plain text (a case, a model's words) as rich text: escaped, line breaks kept."""
    return html.escape(text).replace("\n", "<br>")


def to_html(markdown_text: str) -> str:
    return _MD.render(_bound_tables(markdown_text))


def _is_table_line(line: str) -> bool:
    return line.lstrip().startswith("|")


def _bound_tables(text: str) -> str:
    """Tables over MAX_TABLE_ROWS rows (or MAX_TABLE_CHARS) become fenced text: every cell is
    still there, in a block Qt lays out in a few milliseconds instead of seconds."""
    if "|" not in text:
        return text
    lines = text.split("\n")
    out, i, fenced = [], 0, False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or not _is_table_line(line):
            out.append(line)
            i += 1
            continue
        j = i
        while j < len(lines) and _is_table_line(lines[j]):
            j += 1
        block = lines[i:j]
        if len(block) - 2 > MAX_TABLE_ROWS or sum(map(len, block)) > MAX_TABLE_CHARS:
            out += [f"*A large table ({len(block) - 2} rows), shown as text:*", "", "```", *block, "```"]
        else:
            out += block
        i = j
    return "\n".join(out)


VIGNETTE_SHOWN = 4000  # characters of the vignette above the discussion (a label lays out all it holds)


def shown_vignette(text: str) -> str:
    """The vignette as shown above the discussion: in full up to VIGNETTE_SHOWN characters
    (a 1 MB vignette took 3.4 s to lay out). The model always gets all of it."""
    if len(text) <= VIGNETTE_SHOWN:
        return text
    cut = text.rfind(" ", 0, VIGNETTE_SHOWN)
    cut = cut if cut > VIGNETTE_SHOWN // 2 else VIGNETTE_SHOWN
    return (text[:cut] + f" … ({len(text) - cut:,} more characters: the whole vignette is in the case "
            "editor, and the model reads all of it)")


def _block_ends(text: str) -> list[int]:
    """Indexes just after each blank line that is not inside a ``` code fence."""
    ends, fenced, pos = [], False, 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and not line.strip() and pos < len(text):
            ends.append(pos)
    return ends


def _stable_prefix_end(text: str) -> int:
    """Index just after the last blank line that is not inside a ``` code fence."""
    ends = _block_ends(text)
    return ends[-1] if ends else 0


def _chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """`text` cut at block boundaries into pieces of about `size` characters."""
    pieces, start = [], 0
    for end in _block_ends(text):
        if end - start >= size:
            pieces.append(text[start:end])
            start = end
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _split_code(text: str, size: int = CHUNK_CHARS // 2) -> str:
    """Code blocks longer than `size` become consecutive blocks of about `size` characters,
    so that a long message can be laid out a piece at a time."""
    if "```" not in text:
        return text
    out, block, fence = [], [], None
    for line in text.split("\n"):
        if fence is None:
            out.append(line)
            if line.lstrip().startswith("```"):
                fence, block = line.strip(), []
            continue
        if line.lstrip().startswith("```"):
            out += block + [line]
            fence = None
            continue
        block.append(line)
        if sum(map(len, block)) >= size:
            out += block + ["```", "", fence]
            block = []
    out += block
    return "\n".join(out)


def _plain_block(cursor) -> None:
    """A new block that belongs to no list and is no heading. (A bare insertBlock() inherits
    the previous block's format: a heading after a numbered list turned into item "3.")"""
    cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())


def _plain_tail(text: str) -> bool:
    """Is the block being written shown as plain text until it is complete? Tables and open
    code fences are (redrawing them as rich text on every frame grew with their size), and
    so is any block longer than TAIL_RICH_CHARS."""
    if len(text) > TAIL_RICH_CHARS:
        return True
    stripped = text.lstrip()
    return stripped.startswith(("|", "```")) or "\n|" in text or "\n```" in text


class MarkdownView(QTextBrowser):
    """Renders Markdown; links are shown but open only after the learner confirms."""

    link_requested = Signal(QUrl)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.document().setDefaultStyleSheet(CSS)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.confirm_links = True
        self._source = ""
        self._stream_stable = ""
        self._stream_pos = 0
        self._streaming = False
        self._tail_shown: str | None = None  # the streamed tail, when it is shown as plain text
        self._tail_line = 0  # characters on the plain tail's last displayed line
        self._pending: list[str] = []  # chunks of a long message still to render
        self._render_generation = 0
        self.on_grow: Callable[[], None] | None = None  # called after each chunk of a long message
        self._stick_to_end = False

    def set_markdown(self, text: str) -> None:
        """Show `text` in full. After streaming, only what streaming had not yet rendered is
        rendered now. A long message is rendered CHUNK_CHARS at a time, one chunk per
        event-loop turn, so opening a case with a 100 KB answer never freezes the window."""
        if text == self._source and not self._streaming:
            return
        if self._streaming and text.startswith(self._stream_stable):
            self._finish_stream(text)
            return
        self._source = text
        self._streaming = False
        self._stream_stable, self._stream_pos, self._tail_shown = "", 0, None
        self._render_generation += 1
        bar = self.verticalScrollBar()
        self._stick_to_end = bar.value() >= bar.maximum() - 4
        self.clear()
        self._pending = _chunks(_split_code(text))
        self._render_next(self._render_generation)

    def _render_next(self, generation: int) -> None:
        if generation != self._render_generation or not self._pending:
            return
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        if cursor.position() > 0:
            _plain_block(cursor)
        cursor.insertHtml(to_html(self._pending.pop(0)))
        if self._stick_to_end:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        if self.on_grow is not None:
            self.on_grow()
        if self._pending:
            QTimer.singleShot(0, lambda: self._render_next(generation))

    @property
    def rendering(self) -> bool:
        """True while a long message is still being laid out, chunk by chunk."""
        return bool(self._pending)

    def _finish_stream(self, text: str) -> None:
        """The stream ended: render what was still plain or unrendered, in chunks."""
        self._drop_unstable()
        rest = text[len(self._stream_stable):]
        self._source, self._streaming, self._tail_shown = text, False, None
        self._stream_stable, self._stream_pos = "", 0
        self._render_generation += 1
        self._stick_to_end = True
        self._pending = _chunks(_split_code(rest)) if rest.strip() else []
        self._render_next(self._render_generation)

    def stream_markdown(self, text: str) -> None:
        """Show a growing answer; the work per frame does not grow with the answer.

        Finished blocks (up to the last blank line outside a code fence) are rendered once
        and appended. The block being written is redrawn as rich text while it is short; a
        table, an open code fence or a long block is shown as plain text, extended by only
        the new characters, and rendered properly once it is complete. Call set_markdown
        with the final text at the end.
        """
        if not self._streaming or not text.startswith(self._stream_stable):
            self._reset_stream()
        self._streaming = True
        done = len(self._stream_stable)  # only the new part is scanned: a fence never spans it
        cut = done + _stable_prefix_end(text[done:])
        cursor = self.textCursor()
        tail = text[cut:]
        if cut > len(self._stream_stable):
            cursor = self._drop_unstable()
            if cursor.position() > 0:
                _plain_block(cursor)  # new Markdown blocks start their own paragraph
            cursor.insertHtml(to_html(text[len(self._stream_stable):cut]))
            self._stream_stable = text[:cut]
            self._stream_pos = cursor.position()
        if tail.strip() and _plain_tail(tail) and self._tail_shown is not None and tail.startswith(self._tail_shown):
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(self._wrapped(tail[len(self._tail_shown):]))  # only what is new
            self._tail_shown = tail
        else:  # a new block, or one that turned rich or plain: redraw the tail
            cursor = self._drop_unstable()
            if tail.strip():
                if cursor.position() > 0:
                    _plain_block(cursor)
                if _plain_tail(tail):
                    self._tail_line = 0
                    cursor.insertText(self._wrapped(tail))
                    self._tail_shown = tail
                else:
                    cursor.insertHtml(to_html(tail))
        self._source = text
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _drop_unstable(self):
        """Remove what follows the rendered stable part (the tail being written); a cursor there."""
        cursor = self.textCursor()
        cursor.setPosition(self._stream_pos)
        cursor.movePosition(cursor.MoveOperation.End, cursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._tail_shown = None
        return cursor

    def _wrapped(self, new: str) -> str:
        """New characters of a plain tail, broken every LONG_LINE characters for display:
        Qt lays a paragraph out again whenever it grows, and a 100 KB line costs that much
        every frame. (The rendered answer, once complete, has the text as written.)"""
        out = []
        for piece in new.split("\n"):
            if out:
                out.append("\n")
                self._tail_line = 0
            while self._tail_line + len(piece) > LONG_LINE:
                room = LONG_LINE - self._tail_line
                out += [piece[:room], "\n"]
                piece, self._tail_line = piece[room:], 0
            out.append(piece)
            self._tail_line += len(piece)
        return "".join(out)

    def _reset_stream(self) -> None:
        self._render_generation += 1
        self._pending = []
        self.clear()
        self._stream_stable = ""
        self._stream_pos = 0
        self._tail_shown = None

    def markdown(self) -> str:
        return self._source

    def loadResource(self, kind, url):  # noqa: N802 - Qt override
        # Nothing is loaded from anywhere: not remote, not local files or devices, not data:
        # URIs. (Returning None would let QTextDocument read local paths itself: a reply with
        # ![x](/dev/zero) crashed the app, a FIFO froze it.) An empty resource is shown instead.
        return QByteArray()

    def _on_anchor_clicked(self, url: QUrl) -> None:
        self.link_requested.emit(url)
        if not self.confirm_links:
            return
        answer = QMessageBox.question(
            self, "Open link?", f"Open this address in your browser?\n\n{url.toString()}",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Open:
            QDesktopServices.openUrl(url)
