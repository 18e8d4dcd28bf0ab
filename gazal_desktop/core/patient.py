"""Patient mode (no Qt): a simulated patient for practising the history, the examination and
the choice of tests, then a debrief against the case's script.

A case's *patient script* holds what the patient can say (history items, each revealed only
when the learner asks about it), what an examination finds and what each test shows (both
revealed only when asked for, verbatim from the script), the expected differential, the
diagnosis and the key management steps. The model only gives the patient a voice, from the
history alone (`patient_prompt`): the diagnosis, examination findings and results never reach
it, so it cannot reveal or invent them.

What counts as elicited, examined and ordered is decided here, by the program: a learner's
question elicits a history item when it contains one of the item's eliciting phrases (each
word of the phrase begins a word of the question: "radiat" matches "radiating"). The learner
can mark an item as covered where that matching missed it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field

from gazal_desktop.core.reasoning import split_steps
from gazal_desktop.safety.framing import MODEL_SAFETY_RULES


class ScriptError(ValueError):
    """A patient script that cannot be used, said in words."""


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text)


def phrase_in(phrase: str, text_words: list[str]) -> bool:
    """Every word of `phrase` begins some word of the text (short words must match whole)."""
    want = _words(phrase)
    if not want:
        return False
    return all(any(w == p or (len(p) >= 3 and w.startswith(p)) for w in text_words) for p in want)


def mentions(text: str, phrases: list[str]) -> bool:
    words = _words(text)
    return any(phrase_in(p, words) for p in phrases)


@dataclass
class HistoryItem:
    id: str
    topic: str  # what it is about, for the debrief ("Radiation of the pain")
    fact: str  # what the patient says, in lay words
    ask: list[str]  # eliciting phrases
    key: bool = True  # expected of a competent history (missed key items become review cards)


@dataclass
class Finding:
    id: str
    name: str  # "Vital signs", "Abdominal examination"
    result: str  # shown verbatim
    ask: list[str]


@dataclass
class TestResult:
    id: str
    name: str
    result: str  # shown verbatim
    ask: list[str]
    necessary: bool = True  # part of the expected work-up


@dataclass
class PatientScript:
    persona: str  # who the patient is, in a sentence (age, sex, manner), no diagnosis
    opening: str  # the presenting complaint, as the patient first says it
    history: list[HistoryItem]
    exam: list[Finding]
    tests: list[TestResult]
    differential: list[dict]  # {"name": ..., "ask": [...]}: what the learner's differential should hold
    diagnosis: dict  # {"name": ..., "ask": [...]}
    management: list[str]
    educational: bool = True

    @classmethod
    def from_dict(cls, data: object) -> PatientScript:
        if not isinstance(data, dict):
            raise ScriptError("A patient script must be an object.")
        try:
            script = cls(
                persona=str(data["persona"]), opening=str(data["opening"]),
                history=[HistoryItem(**h) for h in data["history"]],
                exam=[Finding(**f) for f in data.get("exam", [])],
                tests=[TestResult(**t) for t in data.get("tests", [])],
                differential=list(data.get("differential", [])), diagnosis=dict(data["diagnosis"]),
                management=[str(m) for m in data.get("management", [])],
                educational=bool(data.get("educational", True)))
        except KeyError as e:
            raise ScriptError(f"The patient script lacks '{e.args[0]}'.") from None
        except TypeError as e:
            raise ScriptError(f"A patient script entry has the wrong fields: {e}") from None
        script.check()
        return script

    def check(self) -> None:
        if not self.history:
            raise ScriptError("A patient script needs at least one history item.")
        for group, entries in (("history", self.history), ("exam", self.exam), ("tests", self.tests)):
            ids = [e.id for e in entries]
            if len(set(ids)) != len(ids):
                raise ScriptError(f"Two {group} entries share an id.")
            for e in entries:
                if not e.ask or not all(isinstance(a, str) and _words(a) for a in e.ask):
                    raise ScriptError(f"The {group} entry '{e.id}' needs phrases that ask for it.")
        for d in [*self.differential, self.diagnosis]:
            if not isinstance(d, dict) or not d.get("name") or not d.get("ask"):
                raise ScriptError("Each diagnosis in a patient script needs a name and phrases that name it.")

    def to_dict(self) -> dict:
        return asdict(self)


def speaks_to_the_patient(text: str) -> bool:
    """A history question put to the simulated patient ("Do you have chest pain right now?"):
    in the second person and not about the speaker. The emergency check is for a learner
    describing their own emergency ("I'm having chest pain right now"), so patient mode skips
    it for these and keeps it for everything else."""
    words = set(_words(text))
    second = words & {"you", "your", "you're", "yourself", "you've", "you'd"}
    first = words & {"i", "i'm", "i've", "i'd", "me", "my", "myself", "we", "our", "us"}
    return bool(second) and not first


# -- the model's part: the patient's voice, from the history only -----------------------------
PATIENT_RULES = (
    "This is an educational simulation for medical students practising history-taking. You play a "
    "fictional patient; nothing here is about a real person. Answer only as the patient, in the "
    "first person, in plain everyday words (no medical terms the patient would not know), in one to "
    "three short sentences. Answer only what the student asks: do not volunteer other parts of your "
    "story. If asked about something your story does not mention, say you have not noticed it or do "
    "not know. Never name a diagnosis, never interpret tests, and never give medical advice. If the "
    "student asks you to examine yourself or for test results, say that the doctor will have to "
    "check. Think briefly, then answer.")


def patient_prompt(script: PatientScript) -> str:
    """The system prompt of the patient's voice: who they are and their history, nothing else
    (not the diagnosis, the examination findings, the results or the differential)."""
    facts = "\n".join(f"- {h.topic}: {h.fact}" for h in script.history)
    return (f"{PATIENT_RULES} {MODEL_SAFETY_RULES}\n\nYou are {script.persona}.\n"
            f"What you came in with (you have already said this): {script.opening}\n\n"
            f"Your story, to reveal only when asked about each part:\n{facts}")


# -- the encounter ------------------------------------------------------------------------------
@dataclass
class Turn:
    kind: str  # "ask" (learner), "patient" (the model's voice), "exam", "test"
    text: str
    ids: list[str] = field(default_factory=list)  # script entries this turn revealed
    at: str = ""


@dataclass
class Commit:
    leading: str = ""
    differential: list[str] = field(default_factory=list)
    next_steps: str = ""
    reasoning: str = ""  # numbered steps, "Step 1: ..." or "1. ..."

    @property
    def steps(self) -> list[str]:
        if re.search(r"(?im)^\W*step\s*\d+", self.reasoning):
            return [s.text for s in split_steps(self.reasoning)]
        lines = [re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", ln).strip() for ln in self.reasoning.splitlines()]
        return [ln for ln in lines if ln]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Encounter:
    """One learner's session with one case's simulated patient."""

    script: PatientScript
    case_id: int | None = None
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    elicited: list[str] = field(default_factory=list)  # history ids, in the order found
    marked: list[str] = field(default_factory=list)  # history ids the learner marked as covered
    examined: list[str] = field(default_factory=list)
    ordered: list[str] = field(default_factory=list)  # test ids, and "?name" for tests not in the script
    commit: Commit | None = None
    gazal_steps: list[str] = field(default_factory=list)
    finished_at: str | None = None
    id: int | None = None
    created_at: str = field(default_factory=_now)

    # -- asking, examining, ordering ---------------------------------------------------------
    def ask(self, question: str) -> list[HistoryItem]:
        """The learner asks the patient something. Returns the history items this question
        elicits for the first time (the model then answers in the patient's voice)."""
        words = _words(question)
        hits = [h for h in self.script.history if any(phrase_in(p, words) for p in h.ask)]
        new = [h for h in hits if h.id not in self.elicited]
        self.elicited += [h.id for h in new]
        self.turns.append(Turn("ask", question.strip(), [h.id for h in hits], _now()))
        return new

    def patient_said(self, text: str) -> None:
        self.turns.append(Turn("patient", text.strip(), [], _now()))

    def examine(self, request: str) -> list[Finding]:
        """Findings for an examination the learner asks for, verbatim from the script."""
        words = _words(request)
        found = [f for f in self.script.exam if any(phrase_in(p, words) for p in f.ask)]
        self.examined += [f.id for f in found if f.id not in self.examined]
        text = "\n".join(f"{f.name}: {f.result}" for f in found) or (
            f"{request.strip()}: nothing abnormal is recorded for this examination in this case.")
        self.turns.append(Turn("exam", text, [f.id for f in found], _now()))
        return found

    def order(self, request: str) -> list[TestResult]:
        """Results for a test the learner orders, verbatim from the script. A test the script
        does not hold is recorded as ordered (it counts as not needed) and said to be
        unavailable: nothing is invented."""
        words = _words(request)
        found = [t for t in self.script.tests if any(phrase_in(p, words) for p in t.ask)]
        if found:
            self.ordered += [t.id for t in found if t.id not in self.ordered]
            text = "\n".join(f"{t.name}: {t.result}" for t in found)
        else:
            self.ordered.append("?" + request.strip())
            text = (f"{request.strip()}: no result is available for this test in this case "
                    "(it is not part of the case's work-up).")
        self.turns.append(Turn("test", text, [t.id for t in found], _now()))
        return found

    def mark_covered(self, item_id: str, covered: bool = True) -> None:
        if item_id not in {h.id for h in self.script.history}:
            raise ScriptError(f"No history item '{item_id}'")
        if covered and item_id not in self.marked:
            self.marked.append(item_id)
        elif not covered and item_id in self.marked:
            self.marked.remove(item_id)

    # -- what the sidebar lists -------------------------------------------------------------
    def found_so_far(self) -> dict[str, list[str]]:
        by_id = {h.id: h for h in self.script.history}
        exams = {f.id: f for f in self.script.exam}
        tests = {t.id: t for t in self.script.tests}
        return {
            "history": [f"{by_id[i].topic}: {by_id[i].fact}" + ("" if i in self.elicited else " (marked by you)")
                        for i in self.elicited + [m for m in self.marked if m not in self.elicited] if i in by_id],
            "exam": [f"{exams[i].name}: {exams[i].result}" for i in self.examined if i in exams],
            "tests": [f"{tests[i].name}: {tests[i].result}" for i in self.ordered if i in tests],
        }

    def patient_history(self) -> list[tuple[str, str]]:
        """The dialogue as (role, text) for the model: learner questions as the user, the
        patient's words as the assistant. Examinations and tests stay out of its prompt."""
        out = [("assistant", self.script.opening)]
        for t in self.turns:
            if t.kind == "ask":
                out.append(("user", t.text))
            elif t.kind == "patient":
                out.append(("assistant", t.text))
        return out


    # -- saving ------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Everything but the script (which stays with the case), as JSON-ready values."""
        return {"version": 1, "turns": [asdict(t) for t in self.turns], "elicited": self.elicited,
                "marked": self.marked, "examined": self.examined, "ordered": self.ordered,
                "commit": asdict(self.commit) if self.commit else None, "gazal_steps": self.gazal_steps}

    @classmethod
    def from_state(cls, script: PatientScript, state: dict, **kw) -> Encounter:
        enc = cls(script, **kw)
        enc.turns = [Turn(**t) for t in state.get("turns", [])]
        known = {h.id for h in script.history}
        enc.elicited = [i for i in state.get("elicited", []) if i in known]  # a script edited since
        enc.marked = [i for i in state.get("marked", []) if i in known]
        enc.examined = list(state.get("examined", []))
        enc.ordered = list(state.get("ordered", []))
        enc.commit = Commit(**state["commit"]) if state.get("commit") else None
        enc.gazal_steps = list(state.get("gazal_steps", []))
        return enc


# -- the debrief --------------------------------------------------------------------------------
@dataclass
class Debrief:
    elicited: list[HistoryItem]
    missed: list[HistoryItem]  # key items neither elicited nor marked
    marked: list[HistoryItem]  # counted because the learner marked them
    tests_needed: list[TestResult]  # necessary and ordered
    tests_unneeded: list[str]  # ordered but not part of the work-up
    tests_missed: list[TestResult]  # necessary and not ordered
    exam_done: list[Finding]
    exam_missed: list[Finding]
    differential_hit: list[str]  # expected diagnoses the learner named
    differential_missed: list[str]
    differential_extra: list[str]  # the learner's entries that match none expected
    diagnosis_right: bool
    diagnosis: str
    management: list[str]
    step_pairs: list[tuple[int | None, int | None]]  # (learner step, Gazal step); None: a gap

    @property
    def key_total(self) -> int:
        return len(self.elicited) + len(self.missed) + len(self.marked)


_STOP = set("a an the of and or to in on for with by from at as is are was were be been it its this that "
            "these those he she they his her their there than then so not no into over under about which "
            "what who whom how why when where step patient".split())


def _content(text: str) -> set[str]:
    return {w[:6] for w in _words(text) if w not in _STOP and len(w) > 2}


def align_steps(learner: list[str], gazal: list[str], threshold: float = 0.34) -> list[tuple[int | None, int | None]]:
    """Pair the learner's steps with Gazal's where they cover the same point (shared content
    words over the smaller step's), best pairs first, each step used once; the rest are gaps.
    Returned in the learner's order, with Gazal's unmatched steps after."""
    a, b = [_content(s) for s in learner], [_content(s) for s in gazal]
    scores = sorted(((len(x & y) / max(1, min(len(x), len(y))), i, j) for i, x in enumerate(a)
                     for j, y in enumerate(b) if x and y), reverse=True)
    pair_of: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in scores:
        if score < threshold:
            break
        if i not in pair_of and j not in used:
            pair_of[i] = j
            used.add(j)
    out: list[tuple[int | None, int | None]] = [(i, pair_of.get(i)) for i in range(len(learner))]
    out += [(None, j) for j in range(len(gazal)) if j not in used]
    return out


def debrief(enc: Encounter) -> Debrief:
    """Score the encounter against its script: deterministic, the model plays no part."""
    s = enc.script
    elicited = [h for h in s.history if h.id in enc.elicited]
    marked = [h for h in s.history if h.id in enc.marked and h.id not in enc.elicited]
    missed = [h for h in s.history if h.key and h.id not in enc.elicited and h.id not in enc.marked]
    ordered = set(enc.ordered)
    commit = enc.commit or Commit()
    named = [d for d in commit.differential if d.strip()]
    hit, missed_dx = [], []
    for d in s.differential:
        (hit if any(mentions(x, d["ask"]) for x in named + [commit.leading]) else missed_dx).append(d["name"])
    extra = [x for x in named if not any(mentions(x, d["ask"]) for d in [*s.differential, s.diagnosis])]
    return Debrief(
        elicited=elicited, missed=missed, marked=marked,
        tests_needed=[t for t in s.tests if t.necessary and t.id in ordered],
        tests_unneeded=[t.name for t in s.tests if not t.necessary and t.id in ordered]
        + [o[1:] for o in enc.ordered if o.startswith("?")],
        tests_missed=[t for t in s.tests if t.necessary and t.id not in ordered],
        exam_done=[f for f in s.exam if f.id in enc.examined],
        exam_missed=[f for f in s.exam if f.id not in enc.examined],
        differential_hit=hit, differential_missed=missed_dx, differential_extra=extra,
        diagnosis_right=bool(commit.leading) and mentions(commit.leading, s.diagnosis["ask"]),
        diagnosis=s.diagnosis["name"], management=list(s.management),
        step_pairs=align_steps(commit.steps, enc.gazal_steps),
    )


def review_cards(enc: Encounter, d: Debrief, case_title: str) -> list[dict]:
    """What the learner missed, as recall cards (question, answer) for the FSRS deck: each missed
    key history item, each missed necessary test, and a missed diagnosis."""
    where = f"Patient mode, \"{case_title}\""
    cards = [{"key": f"history:{h.id}", "question": f"{where}: what should you have asked about "
              f"({h.topic.lower()}), and what would the patient have told you?",
              "answer": f"{h.topic}: {h.fact}"} for h in d.missed]
    cards += [{"key": f"test:{t.id}", "question": f"{where}: which test did you not order, and what did it show?",
               "answer": f"{t.name}: {t.result}"} for t in d.tests_missed]
    if not d.diagnosis_right:
        cards.append({"key": "diagnosis", "question": f"{where}: what was the diagnosis, and what are the key "
                      "management steps?", "answer": f"{d.diagnosis}. " + "; ".join(d.management)})
    return cards
