"""Discussions of a case and their messages, saved exactly as the learner left them.

Each message row carries the uid its ChatMessage was created with, so a save always finds
its own row. A regenerated reply links to the version it replaces; messages taken out of
the live thread by Edit and resend stay in the table as a superseded branch. Reading a
discussion back (``load_thread``) gives the live thread, every earlier version, statuses,
statistics and reasoning times, with or without a model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gazal_desktop.core.chat import ChatMessage
from gazal_desktop.core.events import Usage
from gazal_desktop.library.db import Library, LibraryError, stored_json, utcnow

DELETED_KEPT_DAYS = 30  # a deleted discussion can be restored this long, then it is purged


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
    deleted_at: str | None = None


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
    uid: str = ""
    superseded: bool = False  # replaced by Edit and resend: an earlier branch


@dataclass(frozen=True)
class DiscussionSummary:
    """One line of a case's discussion list."""

    conversation: Conversation
    first_question: str
    message_count: int

    def describe(self) -> str:
        c = self.conversation
        when = (c.updated_at or c.created_at)[:16].replace("T", " ")
        head = c.title or self.first_question or "(no messages yet)"
        if len(head) > 60:
            head = head[:57] + "…"
        return f"{when} · {head} · {self.message_count} message{'s' if self.message_count != 1 else ''}"


@dataclass
class Thread:
    """A discussion as the learner left it."""

    messages: list[ChatMessage]  # the live thread
    versions: dict[str, list[ChatMessage]]  # earlier versions of a live reply, by its uid


def _conv(row) -> Conversation:
    d = dict(row)
    d["sampling"] = stored_json(d["sampling"], {})
    return Conversation(**d)


def _msg(row) -> StoredMessage:
    d = dict(row)
    d["steps"] = stored_json(d["steps"], [])
    d["stats"] = stored_json(d["stats"], {})
    d["superseded"] = bool(d["superseded"])
    return StoredMessage(**d)


_USAGE_FIELDS = set(Usage.__dataclass_fields__)


def stats_of(message: ChatMessage) -> dict:
    """What a message's statistics are saved as: its Usage, its error and its reasoning time."""
    d: dict[str, Any] = asdict(message.usage) if message.usage is not None else {}
    if message.error:
        d["error"] = message.error
    if message.reasoning_seconds is not None:
        d["reasoning_s"] = message.reasoning_seconds
    if message.notice:
        d["notice"] = message.notice
    return d


def to_chat_message(m: StoredMessage, uid_of: dict[int, str]) -> ChatMessage:
    stats = m.stats or {}
    usage = None
    if {"prompt_tokens", "completion_tokens"} <= stats.keys():
        usage = Usage(**{k: v for k, v in stats.items() if k in _USAGE_FIELDS})
    return ChatMessage(
        m.role, m.content, m.reasoning, m.status, usage=usage, error=stats.get("error"),
        reasoning_seconds=stats.get("reasoning_s"), notice=stats.get("notice"), uid=m.uid,
        replaces=uid_of.get(m.replaces_id) if m.replaces_id is not None else None,
    )


class ChatStore:
    def __init__(self, library: Library) -> None:
        self.lib = library
        self.conn = library.db.conn

    def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        return self.lib.rows(sql, params)

    # -- discussions ----------------------------------------------------------------------
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
        """The case's discussions, oldest first (deleted ones left out)."""
        return [_conv(r) for r in self._rows(
            "SELECT * FROM conversations WHERE case_id = ? AND deleted_at IS NULL ORDER BY id", (case_id,))]

    def summaries(self, case_id: int) -> list[DiscussionSummary]:
        """The discussion list: newest first, with the first question and the message count."""
        rows = self._rows(
            "SELECT c.*, "
            " (SELECT content FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user' "
            "  AND m.superseded = 0 ORDER BY m.id LIMIT 1) AS first_question, "
            " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.superseded = 0 AND m.id NOT IN "
            "  (SELECT replaces_id FROM messages r WHERE r.conversation_id = c.id AND r.replaces_id IS NOT NULL)) "
            "  AS message_count "
            "FROM conversations c WHERE c.case_id = ? AND c.deleted_at IS NULL ORDER BY c.updated_at DESC, c.id DESC",
            (case_id,))
        out = []
        for r in rows:
            first, count = r.pop("first_question"), r.pop("message_count")
            out.append(DiscussionSummary(_conv(r), (first or "").strip().splitlines()[0] if first else "", count))
        return out

    def get_conversation(self, conv_id: int) -> Conversation:
        rows = self._rows("SELECT * FROM conversations WHERE id = ?", (conv_id,))
        if not rows:
            raise LibraryError(f"No conversation {conv_id}")
        return _conv(rows[0])

    def rename(self, conv_id: int, title: str) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conv_id))

    def delete(self, conv_id: int) -> None:
        """Soft delete: gone from the list until restored (Undo) or purged."""
        with self.lib.transaction():
            self.conn.execute("UPDATE conversations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                              (utcnow(), conv_id))

    def restore(self, conv_id: int) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conv_id,))

    def purge_deleted(self, older_than_days: int = DELETED_KEPT_DAYS) -> int:
        """Remove discussions deleted longer ago than that, with their messages."""
        import datetime as dt

        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than_days)).isoformat()
        with self.lib.transaction():
            return self.conn.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?",
                                     (cutoff,)).rowcount

    # -- messages -------------------------------------------------------------------------
    def add_message(self, msg: StoredMessage) -> StoredMessage:
        from gazal_desktop.core.chat import new_uid

        now = utcnow()
        msg.uid = msg.uid or new_uid()
        with self.lib.transaction():
            cur = self.conn.execute(
                "INSERT INTO messages (uid, conversation_id, role, content, reasoning, steps, stats, status, replaces_id, "
                "superseded, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg.uid, msg.conversation_id, msg.role, msg.content, msg.reasoning, json.dumps(msg.steps),
                 json.dumps(msg.stats), msg.status, msg.replaces_id, int(msg.superseded), now, now))
            self.conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, msg.conversation_id))
        msg.id, msg.created_at, msg.updated_at = cur.lastrowid, now, now
        return msg

    def save(self, conv_id: int, message: ChatMessage) -> None:
        """Insert or update the row of `message` (found by its uid): one transaction."""
        steps = [{"number": s.number, "text": s.text} for s in message.steps] if message.reasoning else []
        now = utcnow()
        with self.lib.transaction():
            replaces_id = None
            if message.replaces:
                row = self.conn.execute("SELECT id FROM messages WHERE uid = ?", (message.replaces,)).fetchone()
                replaces_id = row[0] if row else None
            self.conn.execute(
                "INSERT INTO messages (uid, conversation_id, role, content, reasoning, steps, stats, status, replaces_id, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(uid) DO UPDATE SET content = excluded.content, reasoning = excluded.reasoning, "
                "steps = excluded.steps, stats = excluded.stats, status = excluded.status, "
                "updated_at = excluded.updated_at",
                (message.uid, conv_id, message.role, message.content, message.reasoning, json.dumps(steps),
                 json.dumps(stats_of(message)), message.status, replaces_id, now, now))
            self.conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conv_id))

    def supersede(self, uids: list[str]) -> None:
        """Edit and resend took these out of the live thread: kept, never shown as live again."""
        if not uids:
            return
        with self.lib.transaction():
            self.conn.executemany("UPDATE messages SET superseded = 1 WHERE uid = ?", [(u,) for u in uids])

    def save_progress(self, message_id: int, content: str, reasoning: str, status: str,
                      steps: list | None = None, stats: dict[str, Any] | None = None) -> None:
        """Update a stored row by id (imports, tests)."""
        with self.lib.transaction():
            self.conn.execute(
                "UPDATE messages SET content = ?, reasoning = ?, status = ?, steps = ?, stats = ?, updated_at = ? "
                "WHERE id = ?",
                (content, reasoning, status, json.dumps(steps or []), json.dumps(stats or {}), utcnow(), message_id))

    def messages(self, conv_id: int) -> list[StoredMessage]:
        """Every row of a discussion, in order: live, earlier versions and superseded branches."""
        return [_msg(r) for r in self._rows("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conv_id,))]

    def current_messages(self, conv_id: int) -> list[StoredMessage]:
        """The discussion as it now reads: earlier versions and superseded branches left out."""
        msgs = [m for m in self.messages(conv_id) if not m.superseded]
        replaced = {m.replaces_id for m in msgs if m.replaces_id is not None}
        return [m for m in msgs if m.id not in replaced]

    def load_thread(self, conv_id: int) -> Thread:
        """The live thread and each live reply's earlier versions, as ChatMessages."""
        rows = [m for m in self.messages(conv_id) if not m.superseded]
        uid_of = {m.id: m.uid for m in rows}
        by_id = {m.id: m for m in rows}
        replaced = {m.replaces_id for m in rows if m.replaces_id is not None}
        live, versions = [], {}
        for m in rows:
            if m.id in replaced:
                continue
            msg = to_chat_message(m, uid_of)
            live.append(msg)
            chain, prev = [], m.replaces_id
            while prev is not None and prev in by_id and len(chain) < 1000:
                chain.append(to_chat_message(by_id[prev], uid_of))
                prev = by_id[prev].replaces_id
            if chain:
                versions[msg.uid] = chain[::-1]
        return Thread(live, versions)

    def uid_of(self, message_id: int) -> str | None:
        row = self.conn.execute("SELECT uid FROM messages WHERE id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    def mark_interrupted(self) -> int:
        """After a crash or kill: replies left 'streaming' are 'interrupted' (their text is kept)."""
        with self.lib.transaction():
            return self.conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").rowcount

    def recorder(self, case_id: int, conv_id: int | None = None, conversation: Conversation | None = None) -> "ChatRecorder":
        return ChatRecorder(self, case_id, conv_id, conversation)


class ChatRecorder:
    """Saves one discussion as it happens. Pass :meth:`save` as ``ChatSession.on_update`` and
    :meth:`supersede` as ``on_superseded`` (through the database thread, with a snapshot of
    the message: the stream keeps growing the original). The discussion's row is created with
    its first message, so opening a case never leaves an empty discussion behind."""

    def __init__(self, store: ChatStore, case_id: int, conv_id: int | None = None,
                 conversation: Conversation | None = None) -> None:
        self.store = store
        self.case_id = case_id
        self.conv_id = conv_id
        self._template = conversation or Conversation(case_id)

    def _ensure(self) -> int:
        if self.conv_id is None:
            self.conv_id = self.store.start(Conversation(
                self.case_id, self._template.title, self._template.model_file, self._template.quantization,
                dict(self._template.sampling))).id
        return self.conv_id

    def save(self, message: ChatMessage) -> None:
        self.store.save(self._ensure(), message)

    __call__ = save

    def supersede(self, messages: list[ChatMessage]) -> None:
        self.store.supersede([m.uid for m in messages])
