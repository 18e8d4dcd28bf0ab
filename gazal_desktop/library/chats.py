"""Conversations about a case and their messages, saved as they stream."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gazal_desktop.library.db import Library, LibraryError, utcnow


@dataclass
class Conversation:
    case_id: int
    title: str = ""
    model_file: str = ""
    quantization: str = ""
    sampling: dict = field(default_factory=dict)
    id: int | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass
class StoredMessage:
    conversation_id: int
    role: str
    content: str = ""
    reasoning: str = ""
    steps: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    status: str = "complete"
    replaces_id: int | None = None  # an earlier version of this reply (regenerate)
    id: int | None = None
    created_at: str = ""
    updated_at: str = ""


def _conv(row) -> Conversation:
    d = dict(row)
    d["sampling"] = json.loads(d["sampling"] or "{}")
    return Conversation(**d)


def _msg(row) -> StoredMessage:
    d = dict(row)
    d["steps"] = json.loads(d["steps"] or "[]")
    d["stats"] = json.loads(d["stats"] or "{}")
    return StoredMessage(**d)


class ChatStore:
    def __init__(self, library: Library) -> None:
        self.lib = library
        self.conn = library.db.conn

    def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        return self.lib.rows(sql, params)

    def start(self, conv: Conversation) -> Conversation:
        now = utcnow()
        with self.lib.transaction():
            if self.conn.execute("SELECT 1 FROM cases WHERE id = ?", (conv.case_id,)).fetchone() is None:
                raise LibraryError(f"No case {conv.case_id}")
            cur = self.conn.execute(
                "INSERT INTO conversations (case_id, title, model_file, quantization, sampling, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conv.case_id, conv.title, conv.model_file, conv.quantization, json.dumps(conv.sampling), now, now))
        conv.id, conv.created_at, conv.updated_at = cur.lastrowid, now, now
        return conv

    def conversations(self, case_id: int) -> list[Conversation]:
        return [_conv(r) for r in self._rows("SELECT * FROM conversations WHERE case_id = ? ORDER BY id", (case_id,))]

    def get_conversation(self, conv_id: int) -> Conversation:
        rows = self._rows("SELECT * FROM conversations WHERE id = ?", (conv_id,))
        if not rows:
            raise LibraryError(f"No conversation {conv_id}")
        return _conv(rows[0])

    def delete_conversation(self, conv_id: int) -> None:
        with self.lib.transaction():
            self.conn.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))

    def add_message(self, msg: StoredMessage) -> StoredMessage:
        now = utcnow()
        with self.lib.transaction():
            cur = self.conn.execute(
                "INSERT INTO messages (conversation_id, role, content, reasoning, steps, stats, status, replaces_id, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg.conversation_id, msg.role, msg.content, msg.reasoning, json.dumps(msg.steps),
                 json.dumps(msg.stats), msg.status, msg.replaces_id, now, now))
            self.conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, msg.conversation_id))
        msg.id, msg.created_at, msg.updated_at = cur.lastrowid, now, now
        return msg

    def save_progress(self, message_id: int, content: str, reasoning: str, status: str,
                      steps: list | None = None, stats: dict[str, Any] | None = None) -> None:
        """Save a reply as it grows: a crash mid-answer keeps what was generated."""
        with self.lib.transaction():
            self.conn.execute(
                "UPDATE messages SET content = ?, reasoning = ?, status = ?, steps = ?, stats = ?, updated_at = ? "
                "WHERE id = ?",
                (content, reasoning, status, json.dumps(steps or []), json.dumps(stats or {}), utcnow(), message_id))

    def messages(self, conv_id: int) -> list[StoredMessage]:
        return [_msg(r) for r in self._rows("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conv_id,))]

    def current_messages(self, conv_id: int) -> list[StoredMessage]:
        """The conversation as it now reads: earlier versions of regenerated replies left out."""
        msgs = self.messages(conv_id)
        replaced = {m.replaces_id for m in msgs if m.replaces_id is not None}
        return [m for m in msgs if m.id not in replaced]

    def mark_interrupted(self) -> int:
        """After a crash: replies left 'streaming' become 'partial' (their text is kept)."""
        with self.lib.transaction():
            return self.conn.execute("UPDATE messages SET status = 'partial' WHERE status = 'streaming'").rowcount

    @staticmethod
    def stats_of(usage) -> dict:
        return asdict(usage) if usage is not None else {}

    def recorder(self, conv_id: int) -> "ChatRecorder":
        return ChatRecorder(self, conv_id)


class ChatRecorder:
    """Saves a conversation as it happens: call :meth:`user` when the learner sends, and pass
    the recorder as ``ChatSession.on_update`` so each reply is written as it streams."""

    def __init__(self, store: ChatStore, conv_id: int) -> None:
        self.store = store
        self.conv_id = conv_id
        self._ids: dict[int, int] = {}  # id(ChatMessage) -> stored message id
        self._next_replaces: int | None = None

    def bind(self, message, stored_id: int) -> None:
        """Link a message loaded from the database to its row."""
        self._ids[id(message)] = stored_id

    def replacing(self, message) -> None:
        """The next reply is a regenerated version of `message` (kept, linked, not shown twice)."""
        self._next_replaces = self._ids.get(id(message))

    def user(self, text: str) -> StoredMessage:
        return self.store.add_message(StoredMessage(self.conv_id, "user", text))

    def __call__(self, message, key: int | None = None) -> None:
        """Save `message` (a ChatMessage, or a snapshot of one: then pass the original's id as key)."""
        key = id(message) if key is None else key
        if key not in self._ids:
            self._ids[key] = self.store.add_message(StoredMessage(
                self.conv_id, message.role, status="streaming", replaces_id=self._next_replaces)).id
            self._next_replaces = None
        steps = [{"number": s.number, "text": s.text} for s in message.steps] if message.reasoning else []
        self.store.save_progress(self._ids[key], message.content, message.reasoning, message.status, steps,
                                 self.store.stats_of(message.usage))
