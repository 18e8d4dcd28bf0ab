"""Cases: vignettes with answer keys, soft delete with undo, full-text search."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Iterable

from gazal_desktop.library.db import Library, LibraryError, stored_json, utcnow

SPECIALTIES = [
    "Internal medicine", "Emergency medicine", "Cardiology", "Pulmonology", "Infectious disease",
    "Pharmacology", "Pathophysiology", "Clinical laboratory medicine",
]
DIFFICULTIES = ("easy", "medium", "hard")
CANDIDATES = 2000  # matches ranked per search (the most recent); see CaseStore.search
SORTS = {
    "updated": "c.updated_at DESC", "created": "c.created_at DESC", "title": "c.title COLLATE NOCASE",
    "specialty": "c.specialty COLLATE NOCASE, c.title COLLATE NOCASE",
    "difficulty": "CASE c.difficulty WHEN 'easy' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, c.title",
}


@dataclass
class Case:
    title: str
    vignette: str
    specialty: str = ""
    tags: list[str] = field(default_factory=list)
    difficulty: str = "medium"
    source: str = ""
    diagnosis: str = ""
    key_findings: str = ""
    management: str = ""
    teaching_points: str = ""
    mcq_question: str = ""
    mcq_options: list[str] = field(default_factory=list)
    mcq_answer: int | None = None  # index into mcq_options
    mcq_explanations: list[str] = field(default_factory=list)  # why each option is right or wrong (parallel)
    patient: dict = field(default_factory=dict)  # the patient-mode script (core.patient.PatientScript); {} for none
    educational: bool = True
    origin: str = "user"  # user, starter, import, pack, medqa
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    origin_hash: str | None = None  # content hash when it arrived (starter/pack): edits are detectable
    id: int | None = None
    created_at: str = ""
    updated_at: str = ""
    deleted_at: str | None = None

    def validated(self) -> "Case":
        self._check_types()
        problems = []
        if not self.title.strip():
            problems.append("a title")
        if not self.vignette.strip():
            problems.append("a vignette")
        if problems:
            raise LibraryError("A case needs " + " and ".join(problems) + ".")
        if self.difficulty not in DIFFICULTIES:
            raise LibraryError(f"Difficulty must be one of {', '.join(DIFFICULTIES)}")
        if self.mcq_options:
            if not 2 <= len(self.mcq_options) <= 10:
                raise LibraryError("A question needs between 2 and 10 options")
            if self.mcq_answer is None or not 0 <= self.mcq_answer < len(self.mcq_options):
                raise LibraryError("The question's correct option must be one of its options")
            if len({o.strip().lower() for o in self.mcq_options}) != len(self.mcq_options):
                raise LibraryError("The question's options must all be different")
        if self.mcq_explanations and not any(e.strip() for e in self.mcq_explanations):
            self.mcq_explanations = []
        if self.mcq_explanations and len(self.mcq_explanations) != len(self.mcq_options):
            raise LibraryError(f"The question has {len(self.mcq_options)} options but "
                               f"{len(self.mcq_explanations)} explanations: give one per option (empty for none)")
        self.tags = sorted({t.strip() for t in self.tags if t.strip()}, key=str.lower)
        return self

    _TEXT = ("title", "vignette", "specialty", "difficulty", "source", "diagnosis", "key_findings", "management",
             "teaching_points", "mcq_question", "origin", "uid")

    def _check_types(self) -> None:
        """What a file can get wrong, said in words (a float answer, tags as one string)."""
        for name in self._TEXT:
            value = getattr(self, name)
            if value is None and name not in ("title", "vignette", "uid"):
                setattr(self, name, "" if name != "difficulty" else "medium")
            elif not isinstance(value, str):
                raise LibraryError(f"'{name}' must be text, not {type(value).__name__}")
        for name in ("tags", "mcq_options", "mcq_explanations"):
            value = getattr(self, name)
            if value is None:
                setattr(self, name, [])
            elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise LibraryError(f"'{name}' must be a list of text"
                                   + (" (a single string was given)" if isinstance(value, str) else ""))
        if self.mcq_answer is not None and (isinstance(self.mcq_answer, bool) or not isinstance(self.mcq_answer, int)):
            raise LibraryError(f"'mcq_answer' must be the number of the correct option (0 for the first), "
                               f"not {self.mcq_answer!r}")
        if self.patient is None:
            self.patient = {}
        if not isinstance(self.patient, dict):
            raise LibraryError("'patient' must be a patient script (an object)")
        if self.patient:
            from gazal_desktop.core.patient import PatientScript, ScriptError

            try:
                PatientScript.from_dict(self.patient)
            except ScriptError as e:
                raise LibraryError(f"The patient script: {e}") from None
        if not isinstance(self.educational, bool):
            raise LibraryError("'educational' must be true or false")

    def content_hash(self) -> str:
        """What the case says (not when or where it is stored): for duplicates and edits."""
        keys = ("title", "vignette", "specialty", "tags", "difficulty", "diagnosis", "key_findings",
                "management", "teaching_points", "mcq_question", "mcq_options", "mcq_answer")
        data = {k: getattr(self, k) for k in keys}
        data["vignette"] = re.sub(r"\s+", " ", data["vignette"].strip().lower())
        if any(e.strip() for e in self.mcq_explanations):  # absent otherwise: older hashes stay valid
            data["mcq_explanations"] = self.mcq_explanations
        if self.patient:
            data["patient"] = self.patient
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        if not isinstance(data, dict):
            raise LibraryError(f"a case must be an object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("title", "vignette") if k not in data]
        if missing:
            raise LibraryError("A case needs " + " and ".join(f"a {k}" for k in missing) + ".")
        return cls(**{k: v for k, v in data.items() if k in known})


_COLUMNS = [("patient_script" if f.name == "patient" else f.name) for f in fields(Case) if f.name != "id"] + ["content_hash"]


def _row_to_case(row: dict) -> Case:
    row = dict(row)
    row.pop("content_hash", None)
    row["tags"] = stored_json(row["tags"], [])
    row["mcq_options"] = stored_json(row["mcq_options"], [])
    row["mcq_explanations"] = stored_json(row.get("mcq_explanations") or "[]", [])
    row["patient"] = stored_json(row.pop("patient_script", "") or "", {})
    row["educational"] = bool(row["educational"])
    return Case.from_dict(row)


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "case" or "message"
    case_id: int
    title: str
    snippet: str  # with [ and ] around the matched words
    conversation_id: int | None = None
    message_id: int | None = None


def fts_query(text: str) -> str:
    """User text -> a safe FTS5 query: every word must match, the last one as a prefix."""
    words = re.findall(r"[\w]+", text.lower())
    if not words:
        return ""
    parts = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
    return " ".join(parts)


def _first_hit(text: str, words: list[str]) -> re.Match | None:
    if not words or not text:
        return None
    # Whole words, the last one as a prefix (as the search treats it); a short stem also
    # matches inflections the porter stemmer folds together ("pneumonias").
    alts = [re.escape(w[:max(4, len(w) - 2)]) + r"\w*" if len(w) > 4 else re.escape(w) + r"\b" for w in words[:-1]]
    alts.append(re.escape(words[-1]) + r"\w*")
    return re.search(r"\b(?:" + "|".join(alts) + ")", text, re.IGNORECASE)


def make_snippet(text: str, words: list[str], width: int = 120) -> str:
    """About `width` characters around the first match, matched words in [brackets]."""
    m = _first_hit(text, words)
    start = 0 if m is None else max(0, m.start() - width // 3)
    end = min(len(text), start + width)
    piece = text[start:end]
    if m is not None:
        alts = [re.escape(w) + r"\w*" for w in words] + [re.escape(w[:max(4, len(w) - 2)]) + r"\w*" for w in words if len(w) > 4]
        piece = re.sub(r"\b(?:" + "|".join(alts) + ")", lambda x: f"[{x.group(0)}]", piece, flags=re.IGNORECASE)
    return ("…" if start > 0 else "") + piece.strip() + ("…" if end < len(text) else "")


class CaseStore:
    def __init__(self, library: Library) -> None:
        self.lib = library
        self.conn = library.db.conn

    # -- writes ----------------------------------------------------------------------------
    def add(self, case: Case) -> Case:
        case = replace(case).validated()
        now = utcnow()
        case.created_at = case.created_at or now
        case.updated_at = case.updated_at or now
        values = self._values(case)
        with self.lib.transaction():
            cur = self.conn.execute(
                f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values)
        case.id = cur.lastrowid
        return case

    def add_many(self, cases: Iterable[Case], batch: int = 0) -> int:
        """Insert (imports, the starter library): all in one transaction, or with `batch`, one
        transaction per `batch` cases, so that an import of 100,000 questions never holds the
        library's write lock for more than a moment (the app's own saves go between)."""
        n = 0
        now = utcnow()
        pending = iter(cases)
        while True:
            with self.lib.transaction():
                done = 0
                for case in pending:
                    case = replace(case).validated()
                    case.created_at = case.created_at or now
                    case.updated_at = case.updated_at or now
                    self.conn.execute(
                        f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                        self._values(case))
                    n += 1
                    done += 1
                    if batch and done >= batch:
                        break
            if not batch or done < batch:
                return n

    def update(self, case: Case) -> Case:
        if case.id is None:
            raise LibraryError("This case has not been saved yet")
        case = replace(case).validated()
        case.updated_at = utcnow()
        cols = [c for c in _COLUMNS if c not in ("uid", "created_at")]
        data = dict(zip(_COLUMNS, self._values(case)))
        with self.lib.transaction():
            cur = self.conn.execute(
                f"UPDATE cases SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                [data[c] for c in cols] + [case.id])
            if cur.rowcount != 1:
                raise LibraryError("This case no longer exists")
        return case

    def duplicate(self, case_id: int) -> Case:
        c = self.get(case_id)
        copy = replace(c, id=None, uid=uuid.uuid4().hex, title=c.title + " (copy)", origin="user",
                       origin_hash=None, created_at="", updated_at="", deleted_at=None)
        return self.add(copy)

    def delete(self, case_id: int) -> None:
        """Soft delete: the case disappears from lists and search until undone or purged."""
        with self.lib.transaction():
            self.conn.execute("UPDATE cases SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (utcnow(), case_id))

    def undo_delete(self, case_id: int) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE cases SET deleted_at = NULL WHERE id = ?", (case_id,))

    def purge_deleted(self, older_than: str) -> int:
        """Remove for good what was deleted before `older_than` (ISO time), chats included."""
        with self.lib.transaction():
            return self.conn.execute("DELETE FROM cases WHERE deleted_at IS NOT NULL AND deleted_at < ?",
                                     (older_than,)).rowcount

    @staticmethod
    def _values(case: Case) -> list:
        d = case.to_dict()
        d["tags"] = json.dumps(case.tags, ensure_ascii=False)
        d["mcq_options"] = json.dumps(case.mcq_options, ensure_ascii=False)
        d["mcq_explanations"] = json.dumps(case.mcq_explanations, ensure_ascii=False)
        d["patient_script"] = json.dumps(case.patient, ensure_ascii=False) if case.patient else ""
        d["educational"] = int(case.educational)
        d["content_hash"] = case.content_hash()
        return [d[c] for c in _COLUMNS]

    # -- reads -----------------------------------------------------------------------------
    def get(self, case_id: int) -> Case:
        row = self._one("SELECT * FROM cases WHERE id = ?", (case_id,))
        if row is None:
            raise LibraryError(f"No case {case_id}")
        return _row_to_case(row)

    def get_many(self, case_ids: list[int]) -> dict[int, Case]:
        """Cases by id in one query (a search's hits), missing ids left out."""
        if not case_ids:
            return {}
        rows = self.lib.rows(f"SELECT * FROM cases WHERE id IN ({', '.join('?' * len(case_ids))})", case_ids)
        return {r["id"]: _row_to_case(r) for r in rows}

    def get_by_uid(self, uid: str) -> Case | None:
        row = self._one("SELECT * FROM cases WHERE uid = ?", (uid,))
        return _row_to_case(row) if row else None

    def find_by_hash(self, content_hash: str) -> Case | None:
        row = self._one("SELECT * FROM cases WHERE content_hash = ? ORDER BY id LIMIT 1", (content_hash,))
        return _row_to_case(row) if row else None

    def _one(self, sql: str, params: tuple) -> dict | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def list(self, specialty: str | None = None, tag: str | None = None, difficulty: str | None = None,
             sort: str = "updated", include_deleted: bool = False, limit: int | None = None) -> list[Case]:
        where, params = self._filters(specialty, tag, difficulty, include_deleted)
        sql = f"SELECT c.* FROM cases c {where} ORDER BY {SORTS[sort]}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_row_to_case(r) for r in self.lib.rows(sql, params)]

    def markers(self, due_before: str) -> dict[int, tuple[int, bool]]:
        """For the case list: case id -> (discussions, a question due before `due_before`)."""
        out: dict[int, tuple[int, bool]] = {}
        for cid, n in self.conn.execute("SELECT case_id, count(*) FROM conversations WHERE deleted_at IS NULL "
                                        "GROUP BY case_id"):
            out[cid] = (n, False)
        for (cid,) in self.conn.execute("SELECT DISTINCT case_id FROM quiz_items WHERE status = 'approved' AND "
                                        "case_id IS NOT NULL AND due IS NOT NULL AND due < ?", (due_before,)):
            out[cid] = (out.get(cid, (0, False))[0], True)
        return out

    def count(self, include_deleted: bool = False) -> int:
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        return self.conn.execute(f"SELECT count(*) FROM cases {where}").fetchone()[0]

    def specialties(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT specialty FROM cases WHERE deleted_at IS NULL AND specialty != '' ORDER BY 1")]

    def tags(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT j.value FROM cases, json_each(cases.tags) j WHERE cases.deleted_at IS NULL ORDER BY 1")
        return [r[0] for r in rows]

    @staticmethod
    def _filters(specialty, tag, difficulty, include_deleted) -> tuple[str, list]:  # tag: str or a list
        clauses, params = [], []
        if not include_deleted:
            clauses.append("c.deleted_at IS NULL")
        if specialty:
            clauses.append("c.specialty = ?")
            params.append(specialty)
        if difficulty:
            clauses.append("c.difficulty = ?")
            params.append(difficulty)
        if tag:  # one tag, or any of several
            tags = [tag] if isinstance(tag, str) else list(tag)
            clauses.append(f"EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value IN ({', '.join('?' * len(tags))}))")
            params.extend(tags)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def search(self, text: str, specialty: str | None = None, tag: str | None = None,
               difficulty: str | None = None, limit: int = 50, include_messages: bool = True) -> list[SearchHit]:
        """Cases whose title, vignette, tags or diagnosis match, then chat messages that do."""
        q = fts_query(text)
        if not q:
            return []
        text_words = re.findall(r"\w+", text.lower())
        where, params = self._filters(specialty, tag, difficulty, False)
        where = where.replace("WHERE", "AND") if where else ""
        # Column filters inside the FTS query let the index do most of the filtering; the SQL
        # filters below keep it exact.
        match = q
        for column, value in (("specialty", specialty), ("tags", tag)):
            words = re.findall(r"\w+", (value or "").lower())
            if words:
                match += f' AND {column} : "{" ".join(words)}"'
        # Rank by bm25 among the most recent CANDIDATES matches only: ranking every match of a
        # common word in a 100k-case library costs ~100 ms; this bounds it. Snippets are made
        # only for the rows kept (SQLite would otherwise build one per match before sorting).
        top = [
            r[0] for r in self.conn.execute(
                f"SELECT id FROM (SELECT c.id AS id, bm25(cases_fts, 10.0, 1.0, 5.0, 2.0, 5.0) AS score "
                f"FROM cases_fts JOIN cases c ON c.id = cases_fts.rowid WHERE cases_fts MATCH ? {where} "
                f"ORDER BY cases_fts.rowid DESC LIMIT {CANDIDATES}) ORDER BY score LIMIT ?",
                [match, *params, limit])
        ]
        hits = []
        if top:
            marks = ",".join("?" * len(top))
            rows = {r[0]: r for r in self.conn.execute(
                f"SELECT id, title, vignette, diagnosis, tags FROM cases WHERE id IN ({marks})", top)}
            for i in top:
                cid, title, vignette, diagnosis, tags = rows[i]
                text = next((t for t in (vignette, diagnosis, title, tags) if _first_hit(t, text_words)), vignette)
                hits.append(SearchHit("case", cid, title, make_snippet(text, text_words)))
        if include_messages and len(hits) < limit:
            top_m = [
                r[0] for r in self.conn.execute(
                    f"SELECT id FROM (SELECT m.id AS id, bm25(messages_fts) AS score FROM messages_fts "
                    f"JOIN messages m ON m.id = messages_fts.rowid "
                    f"JOIN conversations v ON v.id = m.conversation_id JOIN cases c ON c.id = v.case_id "
                    f"WHERE messages_fts MATCH ? AND v.deleted_at IS NULL AND m.superseded = 0 {where} "
                    f"ORDER BY messages_fts.rowid DESC LIMIT {CANDIDATES}) "
                    f"ORDER BY score LIMIT ?",
                    [q, *params, limit - len(hits)])
            ]
            if top_m:
                marks = ",".join("?" * len(top_m))
                rows = {r[4]: r for r in self.conn.execute(
                    f"SELECT c.id, c.title, m.content, m.conversation_id, m.id FROM messages m "
                    f"JOIN conversations v ON v.id = m.conversation_id JOIN cases c ON c.id = v.case_id "
                    f"WHERE m.id IN ({marks})", top_m)}
                hits += [SearchHit("message", r[0], r[1], make_snippet(r[2], text_words), r[3], r[4])
                         for r in (rows[i] for i in top_m if i in rows)]
        return hits
