"""The library's schema as named migrations, applied in order by db.apply_migrations (each in
its own transaction, recorded in _migrations). A migration is never edited once released:
a change is a new one."""

from __future__ import annotations

from typing import Callable

import sqlite_utils

# -- migrations --------------------------------------------------------------------------
Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str):
    def wrap(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return wrap


@migration("0001_cases_chats_messages")
def _m0001(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            vignette TEXT NOT NULL,
            specialty TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',
            difficulty TEXT NOT NULL DEFAULT 'medium',
            source TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT 'user',
            origin_hash TEXT,
            content_hash TEXT NOT NULL DEFAULT '',
            educational INTEGER NOT NULL DEFAULT 1,
            diagnosis TEXT NOT NULL DEFAULT '',
            key_findings TEXT NOT NULL DEFAULT '',
            management TEXT NOT NULL DEFAULT '',
            teaching_points TEXT NOT NULL DEFAULT '',
            mcq_question TEXT NOT NULL DEFAULT '',
            mcq_options TEXT NOT NULL DEFAULT '[]',
            mcq_answer INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT
        )""")
    db.execute("CREATE INDEX cases_specialty ON cases(specialty, updated_at)")
    db.execute("CREATE INDEX cases_updated ON cases(updated_at)")
    db.execute("CREATE INDEX cases_content_hash ON cases(content_hash)")
    db.execute("""
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            model_file TEXT NOT NULL DEFAULT '',
            quantization TEXT NOT NULL DEFAULT '',
            sampling TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX conversations_case ON conversations(case_id)")
    db.execute("""
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            steps TEXT NOT NULL DEFAULT '[]',
            stats TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'partial', 'cancelled', 'error', 'streaming')),
            replaces_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX messages_conversation ON messages(conversation_id, id)")
    # Full-text indexes kept in step by triggers (written out rather than with
    # sqlite-utils' enable_fts, whose executescript would commit mid-migration).
    _fts(db, "cases", ["title", "vignette", "tags", "specialty", "diagnosis"])
    _fts(db, "messages", ["content"])


def _fts(db: sqlite_utils.Database, table: str, cols: list[str]) -> None:
    db.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5({', '.join(cols)}, content='{table}', content_rowid='id', "
               "tokenize='porter unicode61 remove_diacritics 2')")
    _fts_triggers(db, table, cols)


def _fts_triggers(db: sqlite_utils.Database, table: str, cols: list[str]) -> None:
    """Keep `{table}_fts` in step with `table` (dropped with the table when it is rebuilt)."""
    c = ", ".join(cols)
    new = ", ".join(f"new.{x}" for x in cols)
    old = ", ".join(f"old.{x}" for x in cols)
    db.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {table}_fts(rowid, {c}) VALUES (new.id, {new}); END")
    db.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, {c}) VALUES ('delete', old.id, {old}); END")
    db.execute(f"CREATE TRIGGER {table}_au AFTER UPDATE OF {c} ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, {c}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {table}_fts(rowid, {c}) VALUES (new.id, {new}); END")


@migration("0002_meta")
def _m0002(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migration("0003_quiz")
def _m0003(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE quiz_items (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            case_id INTEGER REFERENCES cases(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('mcq', 'commit')),
            source TEXT NOT NULL CHECK (source IN ('authored', 'generated')),
            status TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'rejected', 'retired')),
            stem TEXT NOT NULL,
            question TEXT NOT NULL DEFAULT '',
            options TEXT NOT NULL DEFAULT '[]',
            answer INTEGER,
            teaching_point TEXT NOT NULL DEFAULT '',
            problems TEXT NOT NULL DEFAULT '[]',
            flagged INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT '',
            card TEXT,
            due TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX quiz_items_due ON quiz_items(status, due)")
    db.execute("CREATE INDEX quiz_items_case ON quiz_items(case_id)")
    db.execute("""
        CREATE TABLE quiz_sessions (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            n_items INTEGER NOT NULL DEFAULT 0,
            n_correct INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            finished_at TEXT
        )""")
    db.execute("""
        CREATE TABLE quiz_reviews (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES quiz_items(id) ON DELETE CASCADE,
            session_id INTEGER REFERENCES quiz_sessions(id) ON DELETE SET NULL,
            reviewed_at TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            correct INTEGER NOT NULL,
            chosen INTEGER,
            confidence TEXT NOT NULL DEFAULT '',
            response TEXT NOT NULL DEFAULT '',
            duration_ms INTEGER,
            mode TEXT NOT NULL DEFAULT '',
            specialty TEXT NOT NULL DEFAULT '',
            due_after TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX quiz_reviews_time ON quiz_reviews(reviewed_at)")
    db.execute("CREATE INDEX quiz_reviews_item ON quiz_reviews(item_id, reviewed_at)")


@migration("0004_message_identity")
def _m0004(db: sqlite_utils.Database) -> None:
    """Stable message uids, edit-and-resend branches, the 'interrupted' status, and soft
    deletion of discussions. The messages table is rebuilt (SQLite cannot change a CHECK);
    ids are kept, so the full-text index stays valid."""
    db.execute("""
        CREATE TABLE messages_new (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            steps TEXT NOT NULL DEFAULT '[]',
            stats TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'partial', 'cancelled', 'interrupted', 'error', 'streaming')),
            replaces_id INTEGER,
            superseded INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        INSERT INTO messages_new (id, uid, conversation_id, role, content, reasoning, steps, stats, status,
                                  replaces_id, superseded, created_at, updated_at)
        SELECT id, lower(hex(randomblob(16))), conversation_id, role, content, reasoning, steps, stats, status,
               replaces_id, 0, created_at, updated_at FROM messages""")
    for trigger in ("messages_ai", "messages_ad", "messages_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE messages")
    db.execute("ALTER TABLE messages_new RENAME TO messages")
    db.execute("CREATE INDEX messages_conversation ON messages(conversation_id, id)")
    _fts_triggers(db, "messages", ["content"])
    db.execute("ALTER TABLE conversations ADD COLUMN deleted_at TEXT")


@migration("0005_review_option_order")
def _m0005(db: sqlite_utils.Database) -> None:
    """The order a question's options were shown in (stored indices, JSON), kept with each
    answer: options are shuffled per presentation."""
    db.execute("ALTER TABLE quiz_reviews ADD COLUMN option_order TEXT NOT NULL DEFAULT ''")


@migration("0006_explanations_and_suspended_blocks")
def _m0006(db: sqlite_utils.Database) -> None:
    """An explanation per option of a case's question (JSON list, parallel to mcq_options), and
    the saved state of a quiz block suspended to resume later."""
    db.execute("ALTER TABLE cases ADD COLUMN mcq_explanations TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE quiz_sessions ADD COLUMN suspended TEXT")


@migration("0007_patient_mode")
def _m0007(db: sqlite_utils.Database) -> None:
    """A case's patient script (JSON, core.patient.PatientScript; '' for none), and patient-mode
    encounters: the dialogue, what was elicited, examined and ordered, the learner's commit."""
    db.execute("ALTER TABLE cases ADD COLUMN patient_script TEXT NOT NULL DEFAULT ''")
    db.execute("""
        CREATE TABLE encounters (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            state TEXT NOT NULL DEFAULT '{}',
            specialty TEXT NOT NULL DEFAULT '',
            key_total INTEGER NOT NULL DEFAULT 0,
            key_elicited INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            deleted_at TEXT
        )""")
    db.execute("CREATE INDEX encounters_case ON encounters(case_id, id)")
