"""Patient-mode encounters in the library: saved as they go (resumable after a relaunch),
listed per case, exported to Markdown, counted in Progress, and turned into review cards.

An encounter's script stays with its case (cases.patient_script); the encounter row holds
what happened (core.patient.Encounter.to_state) and, for Progress, how many key history
items were elicited of how many.
"""

from __future__ import annotations

import json

from gazal_desktop.core.patient import Debrief, Encounter, PatientScript, ScriptError, debrief, review_cards
from gazal_desktop.library.cases import Case
from gazal_desktop.library.db import Library, LibraryError, stored_json, utcnow
from gazal_desktop.safety import DISCLAIMER

KIND_WORDS = {"ask": "You", "patient": "Patient", "exam": "Examination", "test": "Result"}


def script_of(case: Case) -> PatientScript:
    if not case.patient:
        raise LibraryError(f"\"{case.title}\" has no patient script yet: add one in the case editor.")
    try:
        return PatientScript.from_dict(case.patient)
    except ScriptError as e:
        raise LibraryError(f"The patient script of \"{case.title}\" cannot be used: {e}") from None


class EncounterStore:
    def __init__(self, library: Library) -> None:
        self.lib = library
        self.conn = library.db.conn

    def start(self, case: Case) -> Encounter:
        enc = Encounter(script_of(case), case_id=case.id)
        now = utcnow()
        with self.lib.transaction():
            cur = self.conn.execute(
                "INSERT INTO encounters (uid, case_id, state, specialty, key_total, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (enc.uid, case.id, json.dumps(enc.to_state()), case.specialty,
                 sum(h.key for h in enc.script.history), now, now))
        enc.id, enc.created_at = cur.lastrowid, now
        return enc

    def save(self, enc: Encounter) -> None:
        """Keep what happened so far (each question, examination and order is saved at once)."""
        key = {h.id for h in enc.script.history if h.key}
        got = len(key & (set(enc.elicited) | set(enc.marked)))
        with self.lib.transaction():
            self.conn.execute("UPDATE encounters SET state = ?, key_total = ?, key_elicited = ?, updated_at = ?, "
                              "finished_at = ? WHERE id = ?",
                              (json.dumps(enc.to_state()), len(key), got, utcnow(), enc.finished_at, enc.id))

    def get(self, encounter_id: int, case: Case) -> Encounter:
        row = self.conn.execute("SELECT uid, case_id, state, created_at, finished_at FROM encounters "
                                "WHERE id = ? AND deleted_at IS NULL", (encounter_id,)).fetchone()
        if row is None:
            raise LibraryError(f"No patient encounter {encounter_id}")
        return Encounter.from_state(script_of(case), stored_json(row[2], {}), case_id=row[1], uid=row[0],
                                    id=encounter_id, created_at=row[3], finished_at=row[4])

    def for_case(self, case_id: int) -> list[dict]:
        """The case's encounters, newest first: id, created_at, finished_at, key_elicited, key_total."""
        return self.lib.rows("SELECT id, created_at, finished_at, key_elicited, key_total FROM encounters "
                             "WHERE case_id = ? AND deleted_at IS NULL ORDER BY id DESC", (case_id,))

    def delete(self, encounter_id: int) -> None:
        with self.lib.transaction():
            self.conn.execute("UPDATE encounters SET deleted_at = ? WHERE id = ?", (utcnow(), encounter_id))

    def finish(self, enc: Encounter, case: Case, now: str | None = None) -> tuple[Debrief, int]:
        """Score the encounter, mark it finished, and put what was missed into the review deck
        (one card per missed item, linked to the case; an item missed again keeps its card and
        schedule). Returns the debrief and the number of new cards."""
        d = debrief(enc)
        enc.finished_at = enc.finished_at or now or utcnow()
        self.save(enc)
        at = utcnow()
        added = 0
        with self.lib.transaction():
            for card in review_cards(enc, d, case.title):
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO quiz_items (uid, case_id, kind, source, status, stem, question, "
                    "teaching_point, created_at, updated_at) VALUES (?, ?, 'commit', 'authored', 'approved', ?, ?, ?, "
                    "?, ?)", (f"recall:{case.uid}:{card['key']}", case.id, case.vignette, card["question"],
                              card["answer"], at, at))
                added += cur.rowcount
        return d, added

    def progress(self) -> list[dict]:
        """Finished encounters, oldest first: date, specialty, key items elicited and expected."""
        return self.lib.rows("""
            SELECT e.finished_at AS finished_at, e.specialty AS specialty, e.key_elicited AS elicited,
                   e.key_total AS total, c.title AS title
            FROM encounters e JOIN cases c ON c.id = e.case_id
            WHERE e.finished_at IS NOT NULL AND e.deleted_at IS NULL ORDER BY e.finished_at""")


def encounter_markdown(enc: Encounter, case: Case) -> str:
    """The encounter as it happened, then the debrief, under the disclaimer."""
    lines = [f"# Patient mode: {case.title}", "", f"> {DISCLAIMER}", "",
             "*A simulated patient in an educational case. Not a real patient.*", "",
             "## Encounter", "", f"**Patient:** {enc.script.opening}", ""]
    for t in enc.turns:
        lines += [f"**{KIND_WORDS.get(t.kind, t.kind)}:** {t.text}", ""]
    if enc.commit:
        c = enc.commit
        lines += ["## Your commit", "", f"**Leading diagnosis:** {c.leading}", "",
                  f"**Differential:** {', '.join(c.differential)}", "", f"**Next steps:** {c.next_steps}", ""]
        if c.steps:
            lines += [f"{i}. {s}" for i, s in enumerate(c.steps, 1)] + [""]
    if enc.finished_at:
        d = debrief(enc)
        lines += ["## Debrief", "",
                  f"History: {len(d.elicited) + len(d.marked)} of {d.key_total} key items "
                  f"({len(d.marked)} marked by you).", ""]
        lines += [f"- Missed: {h.topic}: {h.fact}" for h in d.missed]
        lines += [f"- Test not ordered: {t.name}" for t in d.tests_missed]
        lines += [f"- Not needed: {n}" for n in d.tests_unneeded]
        lines += ["", f"**Diagnosis:** {d.diagnosis} ({'you named it' if d.diagnosis_right else 'you did not name it'})",
                  "", "**Key management:** " + "; ".join(d.management), ""]
        if enc.gazal_steps:
            lines += ["### Gazal's reasoning", ""] + [f"{i}. {s}" for i, s in enumerate(enc.gazal_steps, 1)] + [""]
    return "\n".join(lines)
