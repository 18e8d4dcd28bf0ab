"""Quiz items, their FSRS cards, review log, sessions and progress, in the library database.

Authored items are kept in step with the cases they come from (`sync_authored`): a case with a
five-option question gets an ``mcq`` item, a case with a diagnosis and management key gets a
``commit`` item. Editing the case updates its items and keeps their schedule; deleting the
case hides them. Generated items arrive as drafts and enter the deck only when approved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from gazal_desktop.core.atomic import write_text_atomic
from gazal_desktop.core.quiz import KINDS, LETTERS, RATING_NAMES, Option, QuizItem, validate
from gazal_desktop.core.quiz_session import AnswerRecord, QuizSession, Recorded, TransitionError, UndoRecord
from gazal_desktop.core.scheduling import QuizScheduler, utc
from gazal_desktop.library.db import Library, LibraryError, stored_json, utcnow
from gazal_desktop.library.encounters import EncounterStore
from gazal_desktop.safety import DISCLAIMER

POOLS = ("due", "new", "incorrect", "flagged")


@dataclass
class QuizFilter:
    """What the quiz builder asks for. An empty specialty or tag list means all of them."""

    specialties: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    count: int = 10
    pools: tuple[str, ...] = ("due", "new")
    kinds: tuple[str, ...] = ("mcq",)


@dataclass
class Progress:
    by_specialty: list[dict]  # specialty, answered, correct, accuracy
    over_time: list[dict]  # week (YYYY-MM-DD Monday), specialty, answered, correct
    forecast: list[tuple[str, int]]  # (local date, cards due that day); the first day includes overdue
    streak: int
    reviewed_today: int
    total_reviews: int
    # finished patient-mode encounters, oldest first: finished_at, specialty, elicited, total, title
    patient_sessions: list[dict] = field(default_factory=list)


_ITEM_COLS = ("uid", "case_id", "kind", "source", "status", "stem", "question", "options", "answer",
              "teaching_point", "problems", "flagged", "note", "card", "due", "created_at", "updated_at")
_SELECT = """
    SELECT i.*, c.title AS case_title, c.specialty AS case_specialty, c.diagnosis AS key_diagnosis,
           c.key_findings AS key_findings, c.management AS key_management,
           c.teaching_points AS key_teaching_points
    FROM quiz_items i LEFT JOIN cases c ON c.id = i.case_id
"""
# Items a learner can be quizzed on: approved, and from a case still in the library.
_LIVE = "i.status = 'approved' AND (i.case_id IS NULL OR c.deleted_at IS NULL)"


def _item(row: dict) -> QuizItem:
    opts = [Option(o) if isinstance(o, str) else Option(o.get("text", ""), o.get("explanation", ""))
            for o in stored_json(row["options"], [])]
    return QuizItem(
        stem=row["stem"], question=row["question"], options=opts, answer=row["answer"],
        teaching_point=row["teaching_point"], kind=row["kind"], source=row["source"], status=row["status"],
        problems=stored_json(row["problems"], []), case_id=row["case_id"], uid=row["uid"],
        flagged=bool(row["flagged"]), note=row["note"], card=stored_json(row["card"], {}) if row["card"] else None,
        due=row["due"], id=row["id"], created_at=row["created_at"], updated_at=row["updated_at"],
        title=row.get("case_title") or "", specialty=row.get("case_specialty") or "",
        answer_key={k: row.get("key_" + k) or "" for k in ("diagnosis", "findings", "management", "teaching_points")},
    )


def local_day(when: dt.datetime) -> dt.date:
    return utc(when).astimezone().date()


def end_of_local_day(when: dt.datetime) -> dt.datetime:
    """Midnight after `when` in the learner's time zone, as UTC ("due today" means before this)."""
    local = utc(when).astimezone()
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=local.tzinfo)
    return midnight.astimezone(dt.timezone.utc)


def _iso(when: dt.datetime) -> str:
    return utc(when).isoformat(timespec="seconds")


class QuizStore:
    def __init__(self, library: Library, scheduler: QuizScheduler | None = None) -> None:
        self.lib = library
        self.conn = library.db.conn
        self.scheduler = scheduler or QuizScheduler()

    def _rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        return self.lib.rows(sql, params)

    # -- items from case answer keys ---------------------------------------------------------
    def sync_authored(self, force: bool = False) -> int:
        """Create or refresh the items of cases that carry an answer key. Returns rows changed.

        Runs in SQL so that it stays quick for a library of 100,000 cases. A case whose question
        was removed retires its item (the review history stays); one that gets it back revives it.
        """
        # Skip the pass when no case was added, removed or edited since the last one (the Study
        # tab asks each time it is shown). An edit moves updated_at; an add or purge moves the sum.
        signature = json.dumps(self.conn.execute(
            "SELECT COUNT(*), MAX(updated_at), TOTAL(id) FROM cases").fetchone())
        if not force and self.lib.get_meta("quiz_sync") == signature:
            return 0
        now = utcnow()
        before = self.conn.total_changes
        with self.lib.transaction():
            self.conn.execute("""
                INSERT INTO quiz_items (uid, case_id, kind, source, status, stem, question, options, answer,
                                        teaching_point, created_at, updated_at)
                SELECT 'mcq:' || uid, id, 'mcq', 'authored', 'approved', vignette, mcq_question,
                       CASE WHEN mcq_explanations = '[]' THEN mcq_options ELSE (
                           SELECT json_group_array(json_object('text', o.value, 'explanation', COALESCE(
                               json_extract(cases.mcq_explanations, '$[' || o.key || ']'), '')))
                           FROM json_each(cases.mcq_options) o) END,
                       mcq_answer, teaching_points, ?, ?
                FROM cases WHERE mcq_options != '[]' AND mcq_answer IS NOT NULL AND true
                ON CONFLICT(uid) DO UPDATE SET
                    stem = excluded.stem, question = excluded.question, options = excluded.options,
                    answer = excluded.answer, teaching_point = excluded.teaching_point, status = 'approved',
                    updated_at = excluded.updated_at
                WHERE quiz_items.stem IS NOT excluded.stem OR quiz_items.question IS NOT excluded.question
                   OR quiz_items.options IS NOT excluded.options OR quiz_items.answer IS NOT excluded.answer
                   OR quiz_items.teaching_point IS NOT excluded.teaching_point OR quiz_items.status != 'approved'
            """, (now, now))
            self.conn.execute("""
                INSERT INTO quiz_items (uid, case_id, kind, source, status, stem, created_at, updated_at)
                SELECT 'commit:' || uid, id, 'commit', 'authored', 'approved', vignette, ?, ?
                FROM cases WHERE diagnosis != '' AND (management != '' OR teaching_points != '') AND true
                ON CONFLICT(uid) DO UPDATE SET stem = excluded.stem, status = 'approved',
                    updated_at = excluded.updated_at
                WHERE quiz_items.stem IS NOT excluded.stem OR quiz_items.status != 'approved'
            """, (now, now))
            self.conn.execute("""
                UPDATE quiz_items SET status = 'retired', updated_at = ?
                WHERE source = 'authored' AND status = 'approved' AND uid NOT LIKE 'recall:%' AND EXISTS (
                    SELECT 1 FROM cases c WHERE c.id = quiz_items.case_id AND (
                        (quiz_items.kind = 'mcq' AND (c.mcq_options = '[]' OR c.mcq_answer IS NULL))
                     OR (quiz_items.kind = 'commit' AND (c.diagnosis = '' OR (c.management = '' AND c.teaching_points = '')))))
            """, (now,))
            self.lib.put_meta("quiz_sync", signature)
        return self.conn.total_changes - before - 1

    # -- generated items ---------------------------------------------------------------------
    def add_generated(self, item: QuizItem, case_id: int) -> QuizItem:
        """Keep a generated item as a draft (or as rejected, with its reasons) for review."""
        item = replace(item, case_id=case_id, source="generated", kind="mcq")
        item.problems = validate(item)
        item.status = "rejected" if item.problems else "draft"
        return self._insert(item)

    def _insert(self, item: QuizItem) -> QuizItem:
        now = utcnow()
        item.created_at = item.created_at or now
        item.updated_at = now
        with self.lib.transaction():
            cur = self.conn.execute(
                f"INSERT INTO quiz_items ({', '.join(_ITEM_COLS)}) VALUES ({', '.join('?' * len(_ITEM_COLS))})",
                self._values(item))
        item.id = cur.lastrowid
        return item

    @staticmethod
    def _values(item: QuizItem) -> list:
        d = {
            "uid": item.uid, "case_id": item.case_id, "kind": item.kind, "source": item.source,
            "status": item.status, "stem": item.stem, "question": item.question,
            "options": json.dumps([{"text": o.text, "explanation": o.explanation} for o in item.options]),
            "answer": item.answer, "teaching_point": item.teaching_point, "problems": json.dumps(item.problems),
            "flagged": int(item.flagged), "note": item.note, "card": json.dumps(item.card) if item.card else None,
            "due": item.due, "created_at": item.created_at, "updated_at": item.updated_at,
        }
        return [d[c] for c in _ITEM_COLS]

    def drafts(self, include_rejected: bool = True) -> list[QuizItem]:
        states = "('draft', 'rejected')" if include_rejected else "('draft')"
        return [_item(r) for r in self._rows(
            _SELECT + f" WHERE i.status IN {states} AND (c.deleted_at IS NULL) ORDER BY i.id DESC")]

    def approve(self, item: QuizItem) -> QuizItem:
        """Save the learner's edits and put the item in the deck, if it now passes the checks."""
        if item.id is None:
            raise LibraryError("Only a stored draft can be approved.")
        item = replace(item, status="draft", source="generated")
        problems = validate(item)
        if problems:
            raise LibraryError("This question cannot enter the deck yet: " + " ".join(problems))
        item.status, item.problems = "approved", []
        self._save(item)
        return item

    def save_draft(self, item: QuizItem) -> QuizItem:
        item = replace(item)
        item.problems = validate(item)
        item.status = "rejected" if item.problems else "draft"
        self._save(item)
        return item

    def discard(self, item_id: int) -> None:
        with self.lib.transaction():
            self.conn.execute("DELETE FROM quiz_items WHERE id = ? AND source = 'generated'", (item_id,))

    def _save(self, item: QuizItem) -> None:
        item.updated_at = utcnow()
        cols = [c for c in _ITEM_COLS if c not in ("uid", "created_at")]
        vals = dict(zip(_ITEM_COLS, self._values(item)))
        with self.lib.transaction():
            self.conn.execute(f"UPDATE quiz_items SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?",
                              [vals[c] for c in cols] + [item.id])

    # -- reading -----------------------------------------------------------------------------
    def get(self, item_id: int) -> QuizItem:
        rows = self._rows(_SELECT + " WHERE i.id = ?", (item_id,))
        if not rows:
            raise LibraryError(f"No quiz item {item_id}")
        return _item(rows[0])

    def build(self, f: QuizFilter, now: dt.datetime | None = None, rng: random.Random | None = None) -> list[QuizItem]:
        """The questions for a quiz: due ones first (most overdue first), then answered wrong
        last time, then flagged, then new ones in random order, up to `f.count`."""
        now = now or dt.datetime.now(dt.timezone.utc)
        rng = rng or random.Random()
        unknown = set(f.pools) - set(POOLS)
        if unknown or not f.pools:
            raise LibraryError(f"Choose what to include from: {', '.join(POOLS)}")
        where, params = [_LIVE], []
        kinds = [k for k in f.kinds if k in KINDS] or list(KINDS)
        where.append(f"i.kind IN ({', '.join('?' * len(kinds))})")
        params += kinds
        if f.specialties:
            where.append(f"c.specialty IN ({', '.join('?' * len(f.specialties))})")
            params += f.specialties
        if f.tags:
            where.append(f"EXISTS (SELECT 1 FROM json_each(c.tags) t WHERE t.value IN ({', '.join('?' * len(f.tags))}))")
            params += f.tags
        base = _SELECT + " WHERE " + " AND ".join(where)
        horizon = _iso(end_of_local_day(now))
        picked: dict[int, QuizItem] = {}

        def take(rows: list[dict]) -> None:
            for r in rows:
                if len(picked) >= f.count:
                    return
                picked.setdefault(r["id"], _item(r))

        if "due" in f.pools:
            take(self._rows(base + " AND i.due IS NOT NULL AND i.due < ? ORDER BY i.due LIMIT ?",
                            params + [horizon, f.count]))
        if "incorrect" in f.pools:
            take(self._rows(base + """ AND (SELECT r.correct FROM quiz_reviews r WHERE r.item_id = i.id
                            ORDER BY r.reviewed_at DESC LIMIT 1) = 0 ORDER BY i.due LIMIT ?""",
                            params + [f.count * 2]))
        if "flagged" in f.pools:
            take(self._rows(base + " AND i.flagged = 1 ORDER BY i.updated_at DESC LIMIT ?", params + [f.count * 2]))
        if "new" in f.pools:
            fresh = self._rows(base + " AND i.card IS NULL ORDER BY random() LIMIT ?", params + [f.count * 2])
            rng.shuffle(fresh)
            take(fresh)
        return list(picked.values())

    def counts(self, now: dt.datetime | None = None) -> dict:
        """For the home screen: due today (before local midnight), new, flagged, drafts waiting."""
        now = now or dt.datetime.now(dt.timezone.utc)
        row = self.conn.execute(f"""
            SELECT
              SUM(i.due IS NOT NULL AND i.due < ?), SUM(i.card IS NULL), SUM(i.flagged), COUNT(*)
            FROM quiz_items i LEFT JOIN cases c ON c.id = i.case_id WHERE {_LIVE}""",
                                (_iso(end_of_local_day(now)),)).fetchone()
        drafts = self.conn.execute("SELECT COUNT(*) FROM quiz_items i LEFT JOIN cases c ON c.id = i.case_id "
                                   "WHERE i.status = 'draft' AND c.deleted_at IS NULL").fetchone()[0]
        return {"due": row[0] or 0, "new": row[1] or 0, "flagged": row[2] or 0, "total": row[3] or 0,
                "drafts": drafts}

    def specialties(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            f"SELECT DISTINCT c.specialty FROM quiz_items i JOIN cases c ON c.id = i.case_id WHERE {_LIVE} "
            "AND c.specialty != '' ORDER BY c.specialty COLLATE NOCASE")]

    def tags(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            f"SELECT DISTINCT t.value FROM quiz_items i JOIN cases c ON c.id = i.case_id, json_each(c.tags) t "
            f"WHERE {_LIVE} ORDER BY t.value COLLATE NOCASE")]

    def latest_discussion(self, case_id: int) -> tuple[list[str], str]:
        """The model's reasoning steps and answer from the case's latest complete reply: shown
        after a commit-first answer, and given to the model when it writes a question."""
        row = self.conn.execute("""
            SELECT m.steps, m.content FROM messages m JOIN conversations v ON v.id = m.conversation_id
            WHERE v.case_id = ? AND m.role = 'assistant' AND m.status IN ('complete', 'partial') AND m.content != ''
              AND m.superseded = 0 AND v.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.replaces_id = m.id)
            ORDER BY m.id DESC LIMIT 1""", (case_id,)).fetchone()
        if not row:
            return [], ""
        steps = [s["text"] if isinstance(s, dict) else str(s) for s in stored_json(row[0], [])]
        return steps, row[1]

    # -- per-item marks --------------------------------------------------------------------
    def set_flag(self, item_id: int, flagged: bool) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_items SET flagged = ? WHERE id = ?", (int(flagged), item_id))

    def set_note(self, item_id: int, note: str) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_items SET note = ? WHERE id = ?", (note, item_id))

    # -- sessions and reviews --------------------------------------------------------------
    def start_session(self, session: QuizSession, settings: dict | None = None) -> int:
        with self.lib.transaction():
            cur = self.conn.execute(
                "INSERT INTO quiz_sessions (mode, settings, n_items, started_at) VALUES (?, ?, ?, ?)",
                (session.mode, json.dumps(settings or {}), len(session.items), _iso(session.started_at)))
        session.id = cur.lastrowid
        return session.id

    def record(self, rec: AnswerRecord) -> Recorded:
        """Schedule one answered question and log the review, in one transaction. `rec` is a
        snapshot (QuizSession.snapshot); the caller applies the result to its session."""
        card, _log = self.scheduler.review(rec.card, rec.item_id, rec.rating, rec.answered_at, rec.duration_ms)
        due = _iso(dt.datetime.fromisoformat(card["due"]))
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_items SET card = ?, due = ? WHERE id = ?",
                              (json.dumps(card), due, rec.item_id))
            cur = self.conn.execute("""
                INSERT INTO quiz_reviews (item_id, session_id, reviewed_at, rating, correct, chosen, confidence,
                                          response, duration_ms, mode, specialty, due_after, option_order)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                                    (rec.item_id, rec.session_id, _iso(rec.answered_at), rec.rating, int(rec.correct),
                                     rec.chosen, rec.confidence, rec.text, rec.duration_ms, rec.mode, rec.specialty,
                                     due, json.dumps(rec.option_order) if rec.option_order else ""))
            if rec.session_id is not None:  # kept current, so a block cut short by a crash still adds up
                self.conn.execute("UPDATE quiz_sessions SET n_correct = ? WHERE id = ?", (rec.n_correct, rec.session_id))
        return Recorded(rec.index, cur.lastrowid, card, due, rec.card, rec.due)

    def undo(self, rec: UndoRecord) -> None:
        """Take back a recorded answer (QuizSession.take_back): its review is deleted and the
        item's schedule is what it was before."""
        with self.lib.transaction():
            self.conn.execute("DELETE FROM quiz_reviews WHERE id = ?", (rec.review_id,))
            self.conn.execute("UPDATE quiz_items SET card = ?, due = ? WHERE id = ?",
                              (json.dumps(rec.card) if rec.card else None, rec.due, rec.item_id))
            if rec.session_id is not None:
                self.conn.execute("UPDATE quiz_sessions SET n_correct = ? WHERE id = ?", (rec.n_correct, rec.session_id))

    def finish_session(self, session_id: int | None, finished_at: dt.datetime, n_correct: int) -> None:
        if session_id is None:
            return
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_sessions SET finished_at = ?, n_correct = ?, suspended = NULL "
                              "WHERE id = ?", (_iso(finished_at), n_correct, session_id))

    # -- suspended blocks --------------------------------------------------------------------
    def suspend(self, session_id: int, state: dict) -> None:
        """Keep an unfinished block (QuizSession.to_state) to resume later, even after a relaunch."""
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_sessions SET suspended = ? WHERE id = ? AND finished_at IS NULL",
                              (json.dumps(state), session_id))

    def suspended(self) -> list[dict]:
        """Blocks waiting to be resumed, newest first: id, mode, n_items, answered, started_at."""
        out = []
        for row in self._rows("SELECT id, mode, n_items, started_at, suspended FROM quiz_sessions "
                              "WHERE suspended IS NOT NULL AND finished_at IS NULL ORDER BY id DESC"):
            state = stored_json(row.pop("suspended"), {})
            responses = state.get("responses", {}) if isinstance(state, dict) else {}
            row["answered"] = sum(1 for r in responses.values()
                                  if isinstance(r, dict) and (r.get("chosen") is not None or r.get("self_rating")))
            out.append(row)
        return out

    def resume(self, session_id: int, now: dt.datetime | None = None) -> QuizSession:
        """The suspended block, its questions read again from the library."""
        now = now or dt.datetime.now(dt.timezone.utc)
        row = self.conn.execute("SELECT suspended FROM quiz_sessions WHERE id = ? AND finished_at IS NULL",
                                (session_id,)).fetchone()
        state = stored_json(row[0], {}) if row and row[0] else None
        if not isinstance(state, dict) or not isinstance(state.get("items"), list):
            raise LibraryError("That block can no longer be resumed.")
        ids = [e.get("id") for e in state["items"] if isinstance(e, dict)]
        items = [_item(r) for r in self._rows(
            _SELECT + f" WHERE i.id IN ({', '.join('?' * len(ids))})", ids)] if ids else []
        try:
            return QuizSession.from_state(state, items, now, session_id)
        except (TransitionError, KeyError, TypeError, ValueError) as e:
            raise LibraryError(f"That block can no longer be resumed: {e}") from None

    def discard_suspended(self, session_id: int) -> None:
        """Give up a suspended block: tutor answers already count; unrecorded timed answers are dropped."""
        with self.lib.transaction():
            self.conn.execute("UPDATE quiz_sessions SET suspended = NULL, finished_at = ? WHERE id = ? "
                              "AND finished_at IS NULL", (utcnow(), session_id))

    def reviews(self, item_id: int | None = None) -> list[dict]:
        sql = """SELECT r.*, i.kind, i.source, i.answer, c.title FROM quiz_reviews r JOIN quiz_items i ON i.id = r.item_id
                 LEFT JOIN cases c ON c.id = i.case_id"""
        if item_id is not None:
            return self._rows(sql + " WHERE r.item_id = ? ORDER BY r.reviewed_at", (item_id,))
        return self._rows(sql + " ORDER BY r.reviewed_at")

    # -- progress ---------------------------------------------------------------------------
    def progress(self, now: dt.datetime | None = None, days: int = 14) -> Progress:
        now = now or dt.datetime.now(dt.timezone.utc)
        tz = utc(now).astimezone().tzinfo
        by_spec: dict[str, list[int]] = {}
        weekly: dict[tuple[str, str], list[int]] = {}
        review_days: set[dt.date] = set()
        total = 0
        for at, spec, correct in self.conn.execute("SELECT reviewed_at, specialty, correct FROM quiz_reviews"):
            total += 1
            spec = spec or "Unsorted"
            day = dt.datetime.fromisoformat(at).astimezone(tz).date()
            review_days.add(day)
            week = (day - dt.timedelta(days=day.weekday())).isoformat()
            for bucket in (by_spec.setdefault(spec, [0, 0]), weekly.setdefault((week, spec), [0, 0])):
                bucket[0] += 1
                bucket[1] += correct
        today = local_day(now)
        streak, d = 0, today if today in review_days else today - dt.timedelta(days=1)
        while d in review_days:
            streak, d = streak + 1, d - dt.timedelta(days=1)
        horizon = dt.datetime.combine(today + dt.timedelta(days=days), dt.time(), tzinfo=tz)
        per_day = [0] * days
        for (due,) in self.conn.execute(f"SELECT i.due FROM quiz_items i LEFT JOIN cases c ON c.id = i.case_id "
                                        f"WHERE {_LIVE} AND i.due < ?", (_iso(horizon),)):
            n = (dt.datetime.fromisoformat(due).astimezone(tz).date() - today).days
            per_day[max(0, n)] += 1  # today includes everything overdue
        forecast = [((today + dt.timedelta(days=n)).isoformat(), per_day[n]) for n in range(days)]
        return Progress(
            by_specialty=[{"specialty": s, "answered": a, "correct": c, "accuracy": c / a}
                          for s, (a, c) in sorted(by_spec.items())],
            over_time=[{"week": w, "specialty": s, "answered": a, "correct": c}
                       for (w, s), (a, c) in sorted(weekly.items())],
            forecast=forecast, streak=streak, reviewed_today=self._reviewed_on(today, tz),
            total_reviews=total, patient_sessions=EncounterStore(self.lib).progress(),
        )

    def _reviewed_on(self, day: dt.date, tz) -> int:
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        end = start + dt.timedelta(days=1)
        return self.conn.execute("SELECT COUNT(*) FROM quiz_reviews WHERE reviewed_at >= ? AND reviewed_at < ?",
                                 (_iso(start), _iso(end))).fetchone()[0]

    def results_csv(self) -> str:
        """Every review as CSV: a plain header row first (so a spreadsheet imports it as is), one
        row per answer, and the disclaimer as the final line."""
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["reviewed_at_utc", "case", "specialty", "kind", "source", "mode", "correct", "chosen",
                    "answer", "confidence", "rating", "seconds", "next_due_utc"])
        for r in self.reviews():
            # letters as the learner saw them (options are shuffled per presentation)
            order = stored_json(r.get("option_order") or "", [])
            seen = (lambda i: LETTERS[order.index(i)] if order and i in order else LETTERS[i])  # noqa: E731
            answer = r.get("answer")
            w.writerow([r["reviewed_at"], r["title"] or "", r["specialty"], r["kind"], r["source"], r["mode"],
                        "yes" if r["correct"] else "no",
                        seen(r["chosen"]) if r["chosen"] is not None else "",
                        seen(answer) if answer is not None and r["kind"] == "mcq" else "", r["confidence"],
                        RATING_NAMES[r["rating"]],
                        f"{r['duration_ms'] / 1000:.1f}" if r["duration_ms"] else "", r["due_after"]])
        w.writerow(["# " + DISCLAIMER.replace("\n", " ")])
        return out.getvalue()

    def export_csv(self, path: Path) -> Path:
        write_text_atomic(Path(path), self.results_csv())
        return Path(path)
