"""Is the learner describing a real emergency happening now?

Three questions, on text normalized first (case, apostrophe-less contractions, repeated
punctuation, common misspellings):
1. an acute event: collapse, not breathing, choking, turning blue, seizure, an overdose or a
   child's ingestion, self-harm with intent or a method, severe bleeding or bleeding in
   pregnancy, stroke or anaphylaxis signs, a thunderclap headache, chest pain, major trauma;
2. a cue that it is real: first person or a present bystander, a time word (now, just,
   minutes ago, tonight), a plea for help, or a short telegraphic message;
3. no teaching cue (a third-person "N-year-old" vignette, quiz, case, OSCE, "what is the next
   step", "write a", "explain") unless the message also pleads for help or says "my" with a
   time word.

Recall comes first: a false alarm costs the learner one click, a miss is the failure this
check exists to prevent. Measured on a labelled set with a held-out part:
`python benchmarks/safety_eval.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gazal_desktop.safety.acute import EVENT_PATTERNS, PEOPLE, RED_FLAGS, SYMPTOM_WORDS, first_words
from gazal_desktop.safety.normalize import blank_quotes, normalize
from gazal_desktop.safety.scan import Index, Rule, token_keys


@dataclass(frozen=True)
class EmergencySignal:
    kind: str  # cardiac, breathing, unresponsive, seizure, overdose, ingestion, suicide, bleeding, stroke, allergy, headache, trauma, hypoglycaemia
    start: int  # offsets into the normalized text's original (same length: normalization keeps offsets)
    end: int
    text: str


_EVENTS = Index(Rule(kind, re.compile(r"\b(?:" + p + r")(?![a-z])"), starts=first_words(p)) for kind, p in EVENT_PATTERNS)

_BYSTANDER = re.compile(r"\b(?:there's|there is|there are)\s+(?:a|an|this|some)\b|\b(?:someone|somebody|this (?:guy|man|woman|lady|person|kid|boy|girl))\b|"
                        r"\b(?:a|an|the) (?:guy|man|woman|lady|person|kid|boy|girl|stranger|old man|old woman|old lady) "
                        r"(?:\w+ )?(?:next to me|near me|in front of me|here|on the (?:train|bus|street|floor)|in the (?:street|road|store|shop)|"
                        r"lying|is|just|has|at)\b")
_TEACHING = re.compile(
    r"\b(?:quiz|mcqs?|flashcards?|questions?|vignettes?|case|cases|osce|usmle|mrcp|plab|exam|exams|revising|revision|studying|"
    r"study|lecture|tutorial|teaching|students?|tutor|role-?play|scenario|simulation|simulated|mock|osce station|exam station|"
    r"next best step|first step|next step|most likely|diagnosis\?|differential|management of|how (?:do|does|should|is|are)|"
    r"what (?:is|are|does|causes|should a|happens)|why (?:do|does|is|are)|explain|describe|discuss|summari[sz]e|list|compare|outline|"
    r"write|create|give me|test me|ask me|true/false|guideline|physiolog\w*|mechanism|antidote|presents|presented|"
    r"brought in|arrives|is found|is brought|is pulled|develops|reports|in this scenario|yesterday|last week|last year|"
    r"two years ago|years ago|when i was|reading about|read about|learning about|learn about|learn how|"
    r"(?:when|if) (?:a|an|the|someone|somebody|a patient|my patient|your patient|you) |seminar|lecture|class|course|"
    r"session|workshop|textbook|notes|rule out|ruled out|differentiate|distinguish|difference between|contrast|versus|vs)\b")
# A plea in the writer's own voice (not "bystanders call for help" in a vignette).
_FIRST_PERSON_PLEA = re.compile(r"(?:^|[.!?]\s*)help\b|\b(?:help (?:me|us|my|him|her|please)|please help|someone help|"
                                r"what do i do|what should i do|what do we do|what now|call 911|call an ambulance|hurry)\b|!")
_PRESENT = re.compile(r"\b(?:now|right now|rn|just|tonight|(?:\d+|a few|few) (?:min|mins|minutes|seconds|secs)(?: ago)?|"
                      r"an hour ago|this morning|at the moment|currently)\b")
# A question about a topic, not a person ("What ECG changes follow a large overdose?").
_QUESTION = re.compile(r"\s*(?:what|why|how|which|when|where|who|is|are|does|do|can|could|should|would|will|list|name)\b")
# Any sentence that asks about a topic ("...with vomiting. Which imaging and when?").
_ASKS = re.compile(r"(?:^|[.!?:]\s*)(?:what|why|how|which|when|where|who|is|are|does|do|can|should|would)\b[^.!?]*\?")
# Teaching however it is asked: a plea inside a quiz or a hypothetical is still a quiz.
_ALWAYS_TEACHING = re.compile(r"\b(?:osce|role-?play|scenario|quiz|vignette|write|mock|(?:when|if) (?:a|an|the|someone|somebody|"
                              r"your) (?:patient|person|child|man|woman|someone|baby|casualty))\b")
# A vignette's opening: "A woman at 8 weeks...", "An infant is brought..." (third person)
_VIGNETTE_OPEN = re.compile(r"(?:^|[.!?]\s+)(?:a|an) (?:\d+[- ](?:year|month|week|day)[- ]old )?(?:pregnant )?(?:man|woman|boy|girl|"
                            r"child|infant|patient|toddler|neonate|newborn|baby|teenager|adolescent|student|gentleman|lady)\b")
_VIGNETTE_AGE = re.compile(r"\b(?:a|an)\s+\d{1,3}-(?:year|month|week|day)-old\b")


def _broad_net(scan: str, tokens, words: set[str]) -> list[tuple[str, int, int]]:
    """No phrase matched: two different acute-illness words (or one red flag) about someone in
    the writer's life, or a bystander. Teaching cues still decide afterwards."""
    hits = {w for w in words if w in _SYMPTOM_KIND}
    if not hits or not (len(hits) >= 2 or hits & RED_FLAGS):
        return []
    # about someone in the writer's life; or telegraphic ("asthma attack, inhaler not helping"):
    # three acute words and nothing that reads as a topic question (teaching cues decide later)
    personal = words & _FIRST_WORDS or words & PEOPLE or _BYSTANDER.search(scan)
    if not personal and not (len(hits) >= 3 and not _ASKS.search(scan)):
        return []
    return [(_SYMPTOM_KIND[k[0]], start, start + len(k[0])) for start, k in tokens if k[0] in hits]


_SYMPTOM_KIND = {w: kind for kind, ws in SYMPTOM_WORDS.items() for w in ws}

# with the verbs people drop the "I" from ("feel like passing out", "cant breathe")
_FIRST_WORDS = {"i", "i'm", "i've", "i'll", "i'd", "me", "my", "mine", "we", "we're", "our", "us", "myself", "feel",
                "feeling"}
_TIME_WORDS = {"now", "rn", "just", "ago", "tonight", "morning", "currently", "moment", "suddenly", "still", "keeps",
               "started", "min", "mins", "minute", "minutes", "stopping"}
_PLEA_WORDS = {"help", "please", "ambulance", "911", "999", "112", "hurry", "urgent", "emergency", "asap", "paramedics"}


def emergency_signals(text: str, exhaustive: bool = False) -> list[EmergencySignal]:
    """Acute events described as real and happening now; [] for teaching content.

    "my dad just collapsed and isnt breathing", "baby turning blue" and "I took 30 pills"
    are caught; "A 65-year-old man presents with chest pain" and "how do you manage an
    overdose?" are not. Offsets and text refer to the normalized text.
    `exhaustive`: try every pattern at every position (slow; the tests compare the two).
    """
    scan = normalize(blank_quotes(text))
    tokens = token_keys(scan)
    events = []
    reach = -1  # the end of the furthest event so far: one inside it is the same event
    for rule, m in sorted(_EVENTS.matches(scan, tokens, exhaustive), key=lambda rm: rm[1].start()):
        if m.start() >= reach:
            events.append((rule.kind, m.start(), m.end()))
        reach = max(reach, m.end())
    words = {k[0] for _, k in tokens}
    words |= {w[:-2] for w in words if w.endswith("'s")}  # "son's" -> "son"
    telegraphic = False
    if not events:
        events = _broad_net(scan, tokens, words)
        telegraphic = bool(events)  # the broad net asked for a person or three acute words itself
    if not events:
        return []
    first = bool(words & _FIRST_WORDS)
    people = bool(words & PEOPLE)
    question = bool(_QUESTION.match(scan)) and scan.rstrip().endswith("?") and not (first or people)
    # an acute phrase in a message that is neither a question about a topic nor a vignette reads
    # as real: recall comes first, and teaching cues still decide below
    phrase_real = not telegraphic and not _ASKS.search(scan) and not _VIGNETTE_OPEN.search(scan)
    real = (first or people or telegraphic or phrase_real or bool(words & (_TIME_WORDS | _PLEA_WORDS)) or "!" in scan
            or "??" in scan or (len(tokens) <= 12 and not question) or bool(_BYSTANDER.search(scan)))
    if not real:
        return []
    vignette_age = _VIGNETTE_AGE.search(scan)
    teaching = bool(_TEACHING.search(scan)) or (bool(vignette_age or _VIGNETTE_OPEN.search(scan)) and not first)
    if teaching:
        pleading = bool(_FIRST_PERSON_PLEA.search(scan))
        owned = bool(words & {"my", "our"}) and bool(_PRESENT.search(scan))
        if not (pleading or owned) or vignette_age or _ALWAYS_TEACHING.search(scan):
            return []
    return [EmergencySignal(kind, s, e, scan[s:e]) for kind, s, e in events]


__all__ = ["EmergencySignal", "emergency_signals"]
