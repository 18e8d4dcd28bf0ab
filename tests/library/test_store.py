"""The case library on a real SQLite file: schema, CRUD, search, chats, safety nets."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time

import pytest

from gazal_desktop.library.cases import Case, CaseStore
from gazal_desktop.library.chats import ChatStore, Conversation, StoredMessage
from gazal_desktop.library.db import (
    MIGRATIONS, Library, LibraryCorrupt, LibraryError, LibraryTooNew, list_backups, restore_backup, thin_backups,
)
from testenv import THREADS


def _old_case(lib) -> int:
    """A case as an older release wrote it (today's CaseStore knows newer columns)."""
    with lib.transaction():
        return lib.db.execute(
            "INSERT INTO cases (uid, title, vignette, created_at, updated_at) VALUES ('c1', 'Inferior STEMI', "
            "'A 58-year-old man has crushing chest pain and ST elevation in II, III, aVF.', 'x', 'x')").lastrowid


def _case(**kw) -> Case:
    base = dict(title="Inferior STEMI", vignette="A 58-year-old man has crushing chest pain and ST elevation in II, III, aVF.",
                specialty="Cardiology", tags=["ACS", "ECG"], diagnosis="Inferior STEMI",
                mcq_question="Best next step?", mcq_options=["PCI", "Observation", "Thrombolysis after 24 h", "Discharge"],
                mcq_answer=0)
    base.update(kw)
    return Case(**base)


@pytest.fixture
def lib(tmp_path):
    library = Library.open(tmp_path / "data")
    yield library
    library.close()


def test_a_new_library_has_the_schema_and_records_its_migrations(lib):
    tables = set(lib.db.table_names())
    assert {"cases", "conversations", "messages", "cases_fts", "messages_fts", "_migrations"} <= tables
    applied = [r[0] for r in lib.db.execute("SELECT name FROM _migrations").fetchall()]
    assert applied == [name for name, _ in MIGRATIONS]
    assert lib.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert lib.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_library_from_a_newer_app_is_refused_untouched(tmp_path):
    data = tmp_path / "data"
    Library.open(data).close()
    conn = sqlite3.connect(data / "library.db")
    conn.execute("INSERT INTO _migrations VALUES ('0099_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()
    before = (data / "library.db").read_bytes()
    with pytest.raises(LibraryTooNew, match="newer Gazal Desktop"):
        Library.open(data)
    assert (data / "library.db").read_bytes() == before


def test_case_crud_soft_delete_and_undo(lib):
    store = CaseStore(lib)
    c = store.add(_case())
    assert c.id and store.get(c.id).mcq_options[0] == "PCI"
    c.title = "Inferior wall STEMI"
    c.tags = ["ECG", "ACS", " ", "acs-rca"]
    store.update(c)
    got = store.get(c.id)
    assert got.title == "Inferior wall STEMI" and got.tags == ["ACS", "acs-rca", "ECG"]
    assert got.updated_at >= got.created_at
    copy = store.duplicate(c.id)
    assert copy.id != c.id and copy.title.endswith("(copy)") and copy.uid != c.uid
    store.delete(c.id)
    assert [x.id for x in store.list()] == [copy.id]
    assert all(h.case_id != c.id for h in store.search("inferior wall"))
    store.undo_delete(c.id)
    assert {x.id for x in store.list()} == {c.id, copy.id}


def test_invalid_cases_are_refused(lib):
    store = CaseStore(lib)
    with pytest.raises(LibraryError, match="title"):
        store.add(_case(title=" "))
    with pytest.raises(LibraryError, match="correct option"):
        store.add(_case(mcq_answer=7))
    with pytest.raises(LibraryError, match="different"):
        store.add(_case(mcq_options=["PCI", "pci", "Aspirin"], mcq_answer=0))


def test_search_filters_sorting_and_snippets(lib):
    store = CaseStore(lib)
    store.add(_case())
    store.add(_case(title="Community-acquired pneumonia", vignette="Fever, productive cough and right lower lobe crackles.",
                    specialty="Pulmonology", tags=["CAP"], difficulty="easy", diagnosis="Pneumonia"))
    store.add(_case(title="Diabetic ketoacidosis", vignette="Polyuria, vomiting, glucose 480 mg/dL, pH 7.12, ketones.",
                    specialty="Internal medicine", tags=["endocrine"], difficulty="hard", diagnosis="DKA"))
    hits = store.search("pneumon")  # prefix match while typing
    assert [h.title for h in hits] == ["Community-acquired pneumonia"]
    assert "[" in hits[0].snippet and "]" in hits[0].snippet
    assert store.search("cough", specialty="Cardiology") == []
    assert [c.title for c in store.list(specialty="Internal medicine")] == ["Diabetic ketoacidosis"]
    assert [c.title for c in store.list(tag="CAP")] == ["Community-acquired pneumonia"]
    assert [c.difficulty for c in store.list(sort="difficulty")] == ["easy", "medium", "hard"]
    assert store.specialties() == ["Cardiology", "Internal medicine", "Pulmonology"]
    assert "endocrine" in store.tags()
    assert store.search('"; DROP TABLE cases; --') == []  # user text never breaks the query


def test_messages_are_saved_as_they_stream_and_searchable(lib):
    cases, chats = CaseStore(lib), ChatStore(lib)
    c = cases.add(_case())
    conv = chats.start(Conversation(c.id, model_file="Gazal-R1-32B-Q4_K_M.gguf", quantization="Q4_K_M",
                                    sampling={"temperature": 0.7}))
    chats.add_message(StoredMessage(conv.id, "user", "Which artery is occluded?"))
    reply = chats.add_message(StoredMessage(conv.id, "assistant", status="streaming"))
    chats.save_progress(reply.id, "The right coronary", "Step 1: inferior leads", "streaming")
    # A crash now: on the next start the half reply is kept and marked interrupted.
    assert chats.mark_interrupted() == 1
    (user, assistant) = chats.messages(conv.id)
    assert assistant.content == "The right coronary" and assistant.status == "interrupted"
    assert assistant.reasoning == "Step 1: inferior leads"
    hit = [h for h in cases.search("coronary") if h.kind == "message"]
    assert hit and hit[0].conversation_id == conv.id and hit[0].case_id == c.id
    assert chats.get_conversation(conv.id).sampling == {"temperature": 0.7}


def test_a_corrupt_database_is_reported_with_the_latest_backup(tmp_path):
    data = tmp_path / "data"
    lib = Library.open(data)
    CaseStore(lib).add(_case())
    backup = lib.backup()
    lib.close()
    (data / "library.db").write_bytes(b"this is not a database" * 100)
    for side in ("library.db-wal", "library.db-shm"):
        (data / side).unlink(missing_ok=True)
    with pytest.raises(LibraryCorrupt) as err:
        Library.open(data)
    assert err.value.latest_backup == backup and "restore it" in str(err.value)
    aside = restore_backup(data, backup)
    assert aside.exists()  # the damaged file is kept, not deleted
    lib = Library.open(data)
    assert [c.title for c in CaseStore(lib).list()] == ["Inferior STEMI"]
    lib.close()


def test_an_empty_library_file_with_backups_is_damage_not_a_new_library(tmp_path):
    data = tmp_path / "data"
    lib = Library.open(data)
    CaseStore(lib).add(_case())
    backup = lib.backup()
    lib.close()
    (data / "library.db").write_bytes(b"")  # truncated to nothing (a crash mid-write, a sync tool)
    for side in ("library.db-wal", "library.db-shm"):
        (data / side).unlink(missing_ok=True)
    with pytest.raises(LibraryCorrupt) as err:
        Library.open(data)
    assert err.value.latest_backup == backup and "empty" in str(err.value)
    restore_backup(data, backup)
    lib = Library.open(data)
    assert [c.title for c in CaseStore(lib).list()] == ["Inferior STEMI"]
    lib.close()
    fresh = tmp_path / "fresh"  # an empty file and no backups: a new library, as before
    fresh.mkdir()
    (fresh / "library.db").write_bytes(b"")
    Library.open(fresh).close()


def test_backups_only_when_changed_and_thinned(tmp_path):
    lib = Library.open(tmp_path / "data")
    assert lib.maybe_backup() is not None  # creating the schema is a change
    assert lib.maybe_backup() is None  # nothing new since
    CaseStore(lib).add(_case())
    assert lib.maybe_backup() is not None
    lib.close()
    folder = tmp_path / "data" / "backups"
    for p in folder.iterdir():
        p.unlink()
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)
    for hours in range(0, 24 * 200, 6):  # a backup every 6 hours for 200 days
        t = now - dt.timedelta(hours=hours)
        (folder / f"library-{t.strftime('%Y%m%d-%H%M%S')}.db").write_bytes(b"x")
    thin_backups(folder, now)
    kept = list_backups(folder)
    assert 4 + 6 + 4 + 3 <= len(kept) <= 5 + 7 + 5 + 8  # a day's worth, dailies, weeklies, monthlies
    assert kept[-1].name == f"library-{now.strftime('%Y%m%d-%H%M%S')}.db"


WRITER = r"""
import sys
from pathlib import Path
from gazal_desktop.library.db import Library
from gazal_desktop.library.cases import Case, CaseStore
lib = Library.open(Path(sys.argv[1]))
store = CaseStore(lib)
i = 0
while True:
    with lib.transaction():  # two writes per transaction: both or neither
        c = Case(title=f"case {i}", vignette="A 40-year-old with fever. " * 20, specialty="Infectious disease")
        store_conn = lib.db.conn
        store_conn.execute("INSERT INTO cases (uid, title, vignette, specialty, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', 'x')",
                           (c.uid, c.title, c.vignette, c.specialty))
        store_conn.execute("INSERT INTO cases (uid, title, vignette, specialty, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', 'x')",
                           (c.uid + "-pair", c.title + " pair", c.vignette, c.specialty))
    print(c.uid, flush=True)
    i += 1
"""


def test_sigkill_mid_write_loses_nothing_committed(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE, text=True)
    committed = []
    deadline = time.time() + 30
    while len(committed) < 300 and time.time() < deadline:
        committed.append(proc.stdout.readline().strip())
    proc.kill()  # SIGKILL, in the middle of whatever transaction is running
    proc.wait()
    lib = Library.open(data)  # integrity check passes
    uids = {r[0] for r in lib.db.execute("SELECT uid FROM cases").fetchall()}
    assert set(committed) <= uids
    # No half transactions: every case has its pair.
    singles = [u for u in uids if not u.endswith("-pair") and u + "-pair" not in uids]
    assert singles == []
    lib.close()


def test_specialty_filter_is_exact_for_multi_word_names_and_snippets_mark_words(lib):
    store = CaseStore(lib)
    store.add(_case(title="Sepsis in the ED", vignette="Fever and hypotension in the emergency room.", specialty="Emergency medicine"))
    store.add(_case(title="Fever of unknown origin", vignette="Three weeks of fever and night sweats.", specialty="Internal medicine"))
    hits = store.search("fever", specialty="Internal medicine")
    assert [h.title for h in hits] == ["Fever of unknown origin"]
    assert "[fever]" in hits[0].snippet.lower()
    assert {h.title for h in store.search("fev")} == {"Sepsis in the ED", "Fever of unknown origin"}


def test_a_live_chat_is_recorded_as_it_streams(lib, tiny_gguf):
    from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
    from gazal_desktop.core.chat import ChatSession
    from gazal_desktop.core.sampling import Sampling

    cases, chats = CaseStore(lib), ChatStore(lib)
    c = cases.add(_case())
    conv = chats.start(Conversation(c.id, model_file=tiny_gguf.name))
    rec = chats.recorder(c.id, conv.id)
    backend = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    try:
        chat = ChatSession(backend, c.vignette, Sampling(max_tokens=40, seed=3), on_update=rec)
        seen_streaming = []
        for i, _ in enumerate(chat.send("Which artery?")):
            if i == 20:  # mid-stream: the partial reply is already in the database
                seen_streaming = [m.status for m in chats.messages(conv.id)]
        user, stored = chats.messages(conv.id)
        reply = chat.messages[-1]
        assert seen_streaming == ["complete", "streaming"]
        assert user.content == "Which artery?"
        assert stored.content == reply.content and stored.reasoning == reply.reasoning
        assert stored.status == reply.status and stored.stats["completion_tokens"] > 0
    finally:
        backend.close()


def test_a_library_from_the_previous_release_keeps_its_discussions_with_new_identities(tmp_path, monkeypatch):
    """0004 rebuilds the messages table: ids, links, text, search and statuses survive."""
    from gazal_desktop.library import db as db_mod

    monkeypatch.setattr(db_mod, "MIGRATIONS", [m for m in db_mod.MIGRATIONS if m[0] < "0004"])
    lib = db_mod.Library.open(tmp_path / "data")
    case_id = _old_case(lib)
    conv_id = lib.db.execute("INSERT INTO conversations (case_id, created_at, updated_at) VALUES (?, 'x', 'x')",
                             (case_id,)).lastrowid
    for role, content, status, replaces in (("user", "Which artery?", "complete", None),
                                            ("assistant", "Left anterior descending", "complete", None),
                                            ("assistant", "Right coronary artery", "streaming", 2)):
        lib.db.execute("INSERT INTO messages (conversation_id, role, content, status, replaces_id, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, 'x', 'x')", (conv_id, role, content, status, replaces))
    lib.db.conn.commit()
    lib.close(backup=False)
    monkeypatch.undo()
    lib = Library.open(tmp_path / "data")
    try:
        chats = ChatStore(lib)
        assert chats.mark_interrupted() == 1
        thread = chats.load_thread(conv_id)
        assert [m.content for m in thread.messages] == ["Which artery?", "Right coronary artery"]
        assert thread.messages[1].status == "interrupted"
        assert [v.content for v in thread.versions[thread.messages[1].uid]] == ["Left anterior descending"]
        assert len({m.uid for m in chats.messages(conv_id)}) == 3 and all(m.uid for m in chats.messages(conv_id))
        assert [h.snippet for h in CaseStore(lib).search("coronary") if h.kind == "message"]
    finally:
        lib.close()


def test_restore_skips_damaged_backups_and_says_which(tmp_path):
    data = tmp_path / "data"
    lib = Library.open(data)
    CaseStore(lib).add(_case())
    good = lib.backup(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc))
    lib.close(backup=False)
    folder = data / "backups"
    (folder / "library-20261121-090000.db").write_bytes(b"SQLite format 3\0" + b"\x13" * 4000)  # cut off
    raw = bytearray(good.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # the schema page overwritten
    (folder / "library-20261122-090000.db").write_bytes(bytes(raw))
    (data / "library.db").write_bytes(b"not a database" * 300)
    for side in ("library.db-wal", "library.db-shm"):
        (data / side).unlink(missing_ok=True)
    with pytest.raises(LibraryCorrupt) as err:
        Library.open(data)
    assert err.value.latest_backup == good
    assert len(err.value.skipped) == 2 and "2 newer backups are damaged too" in str(err.value)
    assert "2026-11-20 09:00" in str(err.value)
    with pytest.raises(LibraryError, match="damaged too"):  # asked for by name: refused, not a crash
        restore_backup(data, folder / "library-20261121-090000.db")
    restore_backup(data, good)
    lib = Library.open(data)
    assert [c.title for c in CaseStore(lib).list()] == ["Inferior STEMI"]
    lib.close()


def _used_library(data):
    """A library with every kind of row the app reads at start-up and in the lists."""
    from gazal_desktop.library import open_library
    from gazal_desktop.library.quiz import QuizStore

    lib, _ = open_library(data)
    cases, chats = CaseStore(lib), ChatStore(lib)
    for c in cases.list()[:10]:
        conv = chats.start(Conversation(c.id, model_file="m.gguf"))
        chats.add_message(StoredMessage(conv.id, "user", "What is the next step? " * 10))
        chats.add_message(StoredMessage(conv.id, "assistant", "The answer. " * 40, reasoning="Step 1: x. " * 20))
    QuizStore(lib).sync_authored()
    lib.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lib.close(backup=False)


def _read_everything(data):
    from gazal_desktop.library import open_library
    from gazal_desktop.library.quiz import QuizStore

    lib, _ = open_library(data)
    try:
        cases, chats, quiz = CaseStore(lib), ChatStore(lib), QuizStore(lib)
        for c in cases.list():
            for s in chats.summaries(c.id):
                chats.load_thread(s.conversation.id)
        cases.search("pain"), cases.specialties(), cases.tags(), quiz.counts()
        chats.mark_interrupted()
    finally:
        lib.close(backup=False)


def test_random_byte_flips_are_damage_or_harmless_never_a_crash(tmp_path):
    """Each flip either leaves a library that opens and lists everything (a flip in free
    space, or a character shown as U+FFFD), or is reported as damage (start-up offers the
    newest good backup; at run time the same path, see tests/ui). Nothing else escapes."""
    import random
    import shutil

    from gazal_desktop.library.db import is_damage

    base = tmp_path / "base"
    _used_library(base)
    size = (base / "library.db").stat().st_size
    outcomes = {"fine": 0, "damage": 0}
    for seed in range(120):
        rng = random.Random(seed)
        data = tmp_path / f"flip{seed}"
        shutil.copytree(base, data)
        raw = bytearray((data / "library.db").read_bytes())
        raw[rng.randrange(size)] ^= 1 << rng.randrange(8)
        (data / "library.db").write_bytes(bytes(raw))
        try:
            _read_everything(data)
            outcomes["fine"] += 1
        except LibraryCorrupt:
            outcomes["damage"] += 1
        except Exception as exc:  # only damage may surface after a clean open
            assert is_damage(exc), f"seed {seed}: {exc!r}"
            outcomes["damage"] += 1
        shutil.rmtree(data)
    assert outcomes["damage"] >= 3, outcomes  # the check sees structural damage


def test_a_migration_on_a_full_disk_says_the_disk_is_full_and_keeps_the_library(tmp_path, monkeypatch):
    from gazal_desktop.library import db as dbmod
    from gazal_desktop.library.db import DiskFull
    from tests.smallfs import fill, mounted

    with mounted(tmp_path / "small", size_kib=16384) as fs:
        data = fs / "data"
        monkeypatch.setattr(dbmod, "MIGRATIONS", dbmod.MIGRATIONS[:3])  # a library from before 0004
        lib = Library.open(data)
        chats = ChatStore(lib)
        conv = chats.start(Conversation(_old_case(lib)))
        for i in range(300):
            lib.db.conn.execute("INSERT INTO messages (conversation_id, role, content, created_at, updated_at) "
                                "VALUES (?, 'user', ?, 'x', 'x')", (conv.id, f"message {i} " * 40))
        lib.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        lib.close(backup=False)
        monkeypatch.undo()
        fill(fs)
        with pytest.raises(DiskFull) as err:
            Library.open(data)
        assert "is full" in str(err.value) and "damaged" not in str(err.value)
        for filler in fs.glob(".filler*"):
            filler.unlink()
        lib = Library.open(data)  # space freed: the migration runs and nothing was lost
        assert [x.title for x in CaseStore(lib).list()] == ["Inferior STEMI"]
        assert len(ChatStore(lib).messages(conv.id)) == 300
        lib.close(backup=False)


def test_a_case_keeps_one_explanation_per_option_or_says_what_is_wrong(tmp_path):
    lib = Library.open(tmp_path / "data")
    try:
        store = CaseStore(lib)
        c = store.add(_case(mcq_explanations=["Reperfusion now.", "", "Too late.", "Unsafe."]))
        assert store.get(c.id).mcq_explanations == ["Reperfusion now.", "", "Too late.", "Unsafe."]
        with pytest.raises(LibraryError, match="4 options but 2 explanations"):
            store.add(_case(mcq_explanations=["a", "b"]))
        assert store.add(_case(title="Blank", mcq_explanations=["", "", "", ""])).mcq_explanations == []
    finally:
        lib.close(backup=False)
