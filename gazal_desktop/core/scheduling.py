"""Spaced repetition with FSRS (the `fsrs` package): one card per quiz item.

Cards are stored as `fsrs.Card.to_dict()` JSON on the item, each review as a row in the
library's review log. All datetimes are UTC; "today" for the due count and the streak is
the learner's local day.
"""

from __future__ import annotations

import datetime as dt

import fsrs

DESIRED_RETENTION = 0.9


def utc(when: dt.datetime | None = None) -> dt.datetime:
    when = when or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        raise ValueError("FSRS needs timezone-aware datetimes")
    return when.astimezone(dt.timezone.utc)


class QuizScheduler:
    """Schedules reviews. `fuzz` spreads due dates a little (as Anki does) so that cards learnt
    together do not all fall due on the same day; tests turn it off for exact intervals."""

    def __init__(self, desired_retention: float = DESIRED_RETENTION, fuzz: bool = True) -> None:
        self.fsrs = fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=fuzz)

    def review(self, card: dict | None, item_id: int, rating: int, when: dt.datetime,
               duration_ms: int | None = None) -> tuple[dict, dict]:
        """Apply one review. Returns (card, log) as dicts ready to store."""
        c = fsrs.Card.from_dict(card) if card else fsrs.Card(card_id=item_id)
        c, log = self.fsrs.review_card(c, fsrs.Rating(rating), review_datetime=utc(when),
                                       review_duration=duration_ms)
        return c.to_dict(), log.to_dict()


def preview(card: dict | None, item_id: int, when: dt.datetime,
            desired_retention: float = DESIRED_RETENTION) -> dict[int, dt.datetime]:
    """When each rating (1 Again .. 4 Easy) would bring the item back, as Anki prints on its
    buttons. Without fuzz: the due date shown is the one the schedule aims at."""
    sched = fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=False)
    out = {}
    for rating in (1, 2, 3, 4):
        c = fsrs.Card.from_dict(card) if card else fsrs.Card(card_id=item_id)
        c, _log = sched.review_card(c, fsrs.Rating(rating), review_datetime=utc(when))
        out[rating] = c.due
    return out


def interval_text(due: dt.datetime, now: dt.datetime) -> str:
    """"in 10 min", "in 3 days", for the buttons and the review screen."""
    s = (utc(due) - utc(now)).total_seconds()
    if s < 3600:
        return f"in {max(1, round(s / 60))} min"
    if s < 86400:
        return f"in {round(s / 3600)} h"
    days = round(s / 86400)
    if days < 60:
        return f"in {days} day" + ("s" if days != 1 else "")
    if days < 730:
        return f"in {round(days / 30)} months"
    return f"in {days / 365:.1f} years"
