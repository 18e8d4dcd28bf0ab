"""A quiz block as a state machine (no Qt): what Enter does, when an answer is revealed,
graded and recorded, how a block ends, is suspended and resumes.

Each question is in one of three states, and the block as a whole can be finished::

    ANSWERING --submit (tutor, an option chosen)--> GRADED      (its answer is recorded)
    ANSWERING --reveal (commit first)-------------> REVEALED
    REVEALED  --grade 1-4 (commit first)----------> GRADED      (recorded now in tutor mode)
    GRADED    --undo (tutor)----------------------> ANSWERING   (its review is taken back)
    any       --end of block--------------------> FINISHED    (timed answers recorded now)

A transition returns a `Step`: the state reached, the answers to record (as `AnswerRecord`
snapshots: the database thread never sees the live session), and a message or a question
for the learner. The widget only renders states and carries out steps.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import Enum

from gazal_desktop.core.quiz import (AGAIN, MODES, SECONDS_PER_QUESTION, QuizItem, rating_for, stored_index)


class State(str, Enum):
    ANSWERING = "answering"
    REVEALED = "revealed"
    GRADED = "graded"
    FINISHED = "finished"


@dataclass
class Response:
    chosen: int | None = None  # mcq: the option picked (as shown)
    text: str = ""  # commit-first: what the learner wrote
    confidence: str = "medium"
    self_rating: int | None = None  # commit-first: the learner's own grade
    seconds: float = 0.0
    answered_at: dt.datetime | None = None
    submitted: bool = False  # locked: tutor mode locks an answer once it is submitted
    revealed: bool = False  # the answer key has been shown

    def correct(self, item: QuizItem) -> bool | None:
        if item.kind == "commit":
            return None if self.self_rating is None else self.self_rating > AGAIN
        return None if self.chosen is None else self.chosen == item.answer

    def rating(self, item: QuizItem) -> int | None:
        if item.kind == "commit":
            return self.self_rating
        if self.chosen is None:
            return None
        return rating_for(self.chosen == item.answer, self.confidence)


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as the database records it: plain values copied from the session."""

    index: int
    session_id: int | None
    item_id: int
    kind: str
    card: dict | None  # the card before this review
    due: str | None
    rating: int
    correct: bool
    chosen: int | None  # the stored option (not the position it was shown at)
    confidence: str
    text: str
    duration_ms: int | None
    mode: str
    specialty: str
    option_order: list[int] | None
    answered_at: dt.datetime
    n_correct: int  # the block's running score, kept current in case the block is cut short


@dataclass(frozen=True)
class Recorded:
    """What recording an answer did, to apply to the session and to undo it."""

    index: int
    review_id: int
    card: dict
    due: str
    card_before: dict | None
    due_before: str | None


@dataclass(frozen=True)
class UndoRecord:
    review_id: int
    item_id: int
    card: dict | None  # restored
    due: str | None
    session_id: int | None
    n_correct: int


@dataclass
class Step:
    """The outcome of a transition, for the widget to carry out."""

    state: State
    record: list[AnswerRecord] = field(default_factory=list)
    message: str = ""
    confirm_unanswered: list[int] = field(default_factory=list)  # ask before ending the block
    moved: bool = False  # the current question changed


class TransitionError(ValueError):
    pass


@dataclass
class QuizSession:
    """What happens in one sitting: the items, the learner's answers, the clock."""

    items: list[QuizItem]
    mode: str = "tutor"
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    seconds_per_question: int = SECONDS_PER_QUESTION
    responses: dict[int, Response] = field(default_factory=dict)
    struck: dict[int, set[int]] = field(default_factory=dict)
    index: int = 0
    finished_at: dt.datetime | None = None
    id: int | None = None
    undo_log: list[Recorded] = field(default_factory=list)
    clock_at: float | None = None  # monotonic time the current question was shown (or last banked)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if not self.items:
            raise ValueError("A quiz needs at least one question.")

    # -- reading ------------------------------------------------------------------------------
    @property
    def current(self) -> QuizItem:
        return self.items[self.index]

    @property
    def last(self) -> bool:
        return self.index == len(self.items) - 1

    @property
    def state(self) -> State:
        return self.state_of(self.index)

    def state_of(self, i: int) -> State:
        if self.finished_at is not None:
            return State.FINISHED
        r = self.responses.get(i)
        if r is None:
            return State.ANSWERING
        item = self.items[i]
        if (item.kind == "commit" and r.self_rating is not None) or (item.kind == "mcq" and r.submitted):
            return State.GRADED
        return State.REVEALED if r.revealed else State.ANSWERING

    @property
    def time_limit_s(self) -> int | None:
        return self.seconds_per_question * len(self.items) if self.mode == "timed" else None

    def remaining_s(self, now: dt.datetime) -> float | None:
        if self.time_limit_s is None:
            return None
        return max(0.0, self.time_limit_s - (now - self.started_at).total_seconds())

    def response(self, i: int | None = None) -> Response:
        return self.responses.setdefault(self.index if i is None else i, Response())

    def unanswered(self) -> list[int]:
        return [i for i, it in enumerate(self.items) if self.responses.get(i, Response()).rating(it) is None]

    def score(self) -> tuple[int, int]:
        """(correct, answered)."""
        got = [self.responses[i].correct(it) for i, it in enumerate(self.items) if i in self.responses]
        got = [g for g in got if g is not None]
        return sum(got), len(got)

    # -- time ---------------------------------------------------------------------------------
    def bank(self, clock: float) -> None:
        """Add the time since the current question was shown (or last banked) to its answer,
        until the answer is locked: the review log keeps how long each one took."""
        if self.finished_at is None and self.clock_at is not None:
            r = self.response()
            if not r.submitted:
                r.seconds += max(0.0, clock - self.clock_at)
        self.clock_at = clock

    # -- transitions --------------------------------------------------------------------------
    def toggle_strike(self, option: int) -> set[int]:
        s = self.struck.setdefault(self.index, set())
        s ^= {option}
        return s

    def choose(self, option: int, now: dt.datetime, confidence: str | None = None) -> bool:
        """Pick an option of the current question; False when the answer is locked."""
        if self.current.kind != "mcq" or self.state is not State.ANSWERING:
            return False
        if not 0 <= option < len(self.current.options):
            raise TransitionError("No such option")
        r = self.response()
        r.chosen, r.answered_at = option, now
        if confidence:
            r.confidence = confidence
        return True

    def write(self, text: str, now: dt.datetime) -> None:
        """A commit-first answer's text (kept until the answer is revealed)."""
        if self.current.kind == "commit" and self.state is State.ANSWERING:
            r = self.response()
            r.text = text
            r.answered_at = r.answered_at or now

    def go(self, step: int, clock: float | None = None) -> Step:
        target = self.index + step
        if self.finished_at is not None or not 0 <= target < len(self.items):
            return Step(self.state)
        if clock is not None:
            self.bank(clock)
        self.index = target
        return Step(self.state, moved=True)

    def enter(self, now: dt.datetime, clock: float | None = None, confidence: str | None = None) -> Step:
        """What Enter does in the current state."""
        if self.finished_at is not None:
            return Step(State.FINISHED)
        item, state = self.current, self.state
        if confidence and item.kind == "mcq" and state is State.ANSWERING and self.index in self.responses:
            self.responses[self.index].confidence = confidence
        if item.kind == "commit" and state is State.ANSWERING:
            return self.reveal(now)
        if self.mode == "timed":
            if self.last:
                return self.request_end(now)
            return self.go(1, clock)
        if state is State.ANSWERING:
            return self.submit(now, clock)
        if state is State.REVEALED:
            return Step(state, message="Grade yourself first (1 Again … 4 Easy).")
        if self.last:
            return self.end(now, clock)
        return self.go(1, clock)

    def submit(self, now: dt.datetime, clock: float | None = None) -> Step:
        """Tutor mode: lock the chosen option; the explanation shows and the answer is recorded."""
        r = self.responses.get(self.index)
        if self.current.kind != "mcq" or self.state is not State.ANSWERING:
            return Step(self.state)
        if r is None or r.chosen is None:
            return Step(self.state, message="Choose an answer first (1–5), or End block.")
        if clock is not None:
            self.bank(clock)
        r.submitted = r.revealed = True
        r.answered_at = r.answered_at or now
        return Step(self.state, record=[self.snapshot(self.index, now)])

    def reveal(self, now: dt.datetime) -> Step:
        """Commit first: show the stored answer key (the learner then grades themselves)."""
        if self.current.kind != "commit" or self.state is not State.ANSWERING:
            return Step(self.state)
        r = self.response()
        r.revealed = True
        r.answered_at = r.answered_at or now
        return Step(self.state)

    def grade(self, rating: int, now: dt.datetime, clock: float | None = None) -> Step:
        """Commit first: the learner's own grade. Tutor mode records it at once."""
        if self.current.kind != "commit" or self.state is not State.REVEALED:
            return Step(self.state)
        if rating not in (1, 2, 3, 4):
            raise TransitionError("A grade is 1 (Again) to 4 (Easy)")
        if clock is not None:
            self.bank(clock)
        r = self.response()
        r.self_rating = rating
        r.answered_at = r.answered_at or now
        if self.mode == "tutor":
            r.submitted = True
            return Step(self.state, record=[self.snapshot(self.index, now)])
        return Step(self.state)

    def request_end(self, now: dt.datetime, clock: float | None = None) -> Step:
        """End the block, unless questions are unanswered: then the learner is asked first."""
        left = self.unanswered()
        if left and self.finished_at is None:
            return Step(self.state, confirm_unanswered=left)
        return self.end(now, clock)

    def end(self, now: dt.datetime, clock: float | None = None) -> Step:
        """Finish: answers lock; a timed block's answers are recorded now (tutor ones already were)."""
        if self.finished_at is not None:
            return Step(State.FINISHED)
        if clock is not None:
            self.bank(clock)
        record = [self.snapshot(i, now) for i in range(len(self.items))
                  if self.mode == "timed" and self.responses.get(i, Response()).rating(self.items[i]) is not None]
        for r in self.responses.values():
            if r.chosen is not None or r.self_rating is not None:
                r.submitted = r.revealed = True
        self.finished_at = now
        return Step(State.FINISHED, record=record)

    def take_back(self) -> UndoRecord | None:
        """Tutor mode: reopen the newest recorded answer. Returns what the database must undo
        (None: nothing to undo)."""
        if self.mode != "tutor" or not self.undo_log or self.finished_at is not None:
            return None
        rec = self.undo_log.pop()
        item = self.items[rec.index]
        item.card, item.due = rec.card_before, rec.due_before
        r = self.responses.get(rec.index)
        if r is not None:
            r.submitted = r.revealed = False
            r.chosen = r.self_rating = None
        self.index = rec.index
        return UndoRecord(rec.review_id, item.id, copy.deepcopy(rec.card_before), rec.due_before, self.id,
                          self.score()[0])

    # -- the database's side ------------------------------------------------------------------
    def snapshot(self, index: int, now: dt.datetime) -> AnswerRecord:
        item, r = self.items[index], self.responses[index]
        return AnswerRecord(
            index=index, session_id=self.id, item_id=item.id, kind=item.kind, card=copy.deepcopy(item.card),
            due=item.due, rating=r.rating(item), correct=bool(r.correct(item)),
            chosen=stored_index(item, r.chosen), confidence=r.confidence if item.kind == "mcq" else "",
            text=r.text, duration_ms=int(r.seconds * 1000) if r.seconds else None, mode=self.mode,
            specialty=item.specialty, option_order=list(item.shown_order) if item.shown_order else None,
            answered_at=r.answered_at or now, n_correct=self.score()[0])

    def recorded(self, result: Recorded) -> None:
        """Apply a recorded answer's new schedule (on the thread that owns the session)."""
        item = self.items[result.index]
        item.card, item.due = result.card, result.due
        self.undo_log.append(result)

    # -- suspend and resume -------------------------------------------------------------------
    def to_state(self, now: dt.datetime) -> dict:
        """Everything needed to resume the block later, as JSON-ready values."""
        def resp(r: Response) -> dict:
            d = asdict(r)
            d["answered_at"] = r.answered_at.isoformat() if r.answered_at else None
            return d

        return {
            "version": 1, "mode": self.mode, "index": self.index, "seconds_per_question": self.seconds_per_question,
            "elapsed_s": (now - self.started_at).total_seconds(),
            "items": [{"id": it.id, "order": it.shown_order} for it in self.items],
            "responses": {str(i): resp(r) for i, r in self.responses.items()},
            "struck": {str(i): sorted(s) for i, s in self.struck.items() if s},
            "undo": [asdict(u) for u in self.undo_log],
        }

    @classmethod
    def from_state(cls, state: dict, items: list[QuizItem], now: dt.datetime, session_id: int | None) -> QuizSession:
        """The block `to_state` saved, with `items` read again from the library (in the saved
        order, each shown with its saved option order). A timed block's clock goes on from
        where it stopped."""
        from gazal_desktop.core.quiz import presented

        by_id = {it.id: it for it in items}
        missing = [e["id"] for e in state["items"] if e["id"] not in by_id]
        if missing:
            raise TransitionError(f"{len(missing)} question(s) of this block are no longer in the library.")
        shown = [presented(by_id[e["id"]], e.get("order")) for e in state["items"]]
        s = cls(shown, state["mode"], started_at=now - dt.timedelta(seconds=float(state.get("elapsed_s", 0))),
                seconds_per_question=int(state.get("seconds_per_question", SECONDS_PER_QUESTION)), id=session_id)
        for key, d in state.get("responses", {}).items():
            d = dict(d)
            d["answered_at"] = dt.datetime.fromisoformat(d["answered_at"]) if d.get("answered_at") else None
            s.responses[int(key)] = Response(**{k: v for k, v in d.items() if k in Response.__dataclass_fields__})
        s.struck = {int(k): set(v) for k, v in state.get("struck", {}).items()}
        s.undo_log = [Recorded(**u) for u in state.get("undo", [])]
        s.index = min(max(0, int(state.get("index", 0))), len(shown) - 1)
        return s
