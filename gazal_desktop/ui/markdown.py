"""Answers as safe rich text: markdown-it-py with raw HTML off; nothing remote is loaded."""

from __future__ import annotations

import html

from markdown_it import MarkdownIt
from PySide6.QtCore import QByteArray, QUrl, Signal
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


def to_html(markdown_text: str) -> str:
    return _MD.render(markdown_text)


def _stable_prefix_end(text: str) -> int:
    """Index just after the last blank line that is not inside a ``` code fence."""
    end, fenced, pos = 0, False, 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and not line.strip() and pos < len(text):
            end = pos
    return end


def _plain_block(cursor) -> None:
    """A new block that belongs to no list and is no heading. (A bare insertBlock() inherits
    the previous block's format: a heading after a numbered list turned into item "3.")"""
    cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())


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

    def set_markdown(self, text: str) -> None:
        if text == self._source and not self._streaming:
            return
        self._source = text
        self._streaming = False
        self._stream_stable, self._stream_pos = "", 0
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.setHtml(to_html(text))
        if at_end:
            bar.setValue(bar.maximum())

    def stream_markdown(self, text: str) -> None:
        """Show a growing answer, re-rendering only its last block.

        Finished paragraphs (up to the last blank line outside a code fence) are rendered
        once and appended; only the block being written is redrawn each frame, so the cost
        does not grow with the answer. Call set_markdown with the final text at the end.
        """
        if not self._streaming or not text.startswith(self._stream_stable):
            self._reset_stream()
        self._streaming = True
        cut = _stable_prefix_end(text)
        cursor = self.textCursor()
        cursor.setPosition(self._stream_pos)
        cursor.movePosition(cursor.MoveOperation.End, cursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if cut > len(self._stream_stable):
            if cursor.position() > 0:
                _plain_block(cursor)  # new Markdown blocks start their own paragraph
            cursor.insertHtml(to_html(text[len(self._stream_stable):cut]))
            self._stream_stable = text[:cut]
            self._stream_pos = cursor.position()
        tail = text[cut:]
        if tail.strip():
            if cursor.position() > 0:
                _plain_block(cursor)
            cursor.insertHtml(to_html(tail))
        self._source = text
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _reset_stream(self) -> None:
        self.clear()
        self._stream_stable = ""
        self._stream_pos = 0

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
