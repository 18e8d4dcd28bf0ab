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

from gazal_desktop.safety.acute import PEOPLE, PHRASES, RED_FLAGS, SYMPTOM_WORDS, first_words
from gazal_desktop.safety.normalize import blank_quotes, normalize
from gazal_desktop.safety.scan import DIGIT, Index, Rule, token_keys


@dataclass(frozen=True)
class EmergencySignal:
    kind: str  # cardiac, breathing, unresponsive, seizure, overdose, ingestion, suicide, bleeding, stroke, allergy, headache, trauma, hypoglycaemia
    start: int  # offsets into the normalized text's original (same length: normalization keeps offsets)
    end: int
    text: str


_PRON = r"(?:he|she|they|i|you|we|it|him|her|them|me|baby|kid|child|son|daughter|dad|mom|mum|husband|wife)"
_KID = r"(?:baby|babies|toddler|infant|newborn|kid|child|son|daughter|boy|girl|\d{1,2}\s*(?:yo|y/o|yr old|year old|years old|month old|mo old|mos old|months old))"
_QTY = r"(?:a (?:whole|full|entire) (?:bottle|pack|box|packet|strip)|all (?:of )?(?:my|his|her|their|the|them)|(?:way )?too (?:many|much)|a (?:bunch|handful|lot|load) of|like \d+|\d{2,}(?! ?(?:mg|mcg|g|ml|units?|iu|mmol)\b)|loads of|an overdose|double|twice|two doses)"
_SUBST = (r"(?:pills?|tablets?|meds|medications?|medicines?|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|"
          r"insulin|xanax|oxy\w*|fentanyl|heroin|opioids?|sleeping pills|antidepressants?|sertraline|amitriptyline|"
          r"lithium|warfarin|digoxin|iron tablets|vitamins|\w+ pills)")
_CAUSTIC = (r"(?:bleach|drain cleaner|oven cleaner|antifreeze|lamp oil|paraffin|kerosene|petrol|gasoline|"
            r"rat poison|weed killer|pesticide|detergent|laundry (?:pod|capsule|tablet)s?|dishwasher (?:tablet|pod)s?|"
            r"button batter(?:y|ies)|batter(?:y|ies)|magnets?|a coin|coins|nail polish remover|e-?liquid|vape juice|"
            r"grandmas pills|grandma's pills|(?:his|her|my|their) (?:pills|tablets|meds))")

EVENTS: list[tuple[str, str]] = [
    ("unresponsive", r"\b(?:collapsed|collapsing|passed out|fainted|blacked out|keeled over)\b"),
    ("unresponsive", r"\b(?:unconscious|unresponsive|not responding|isn't responding|won't respond|wont respond|doesn't respond|"
                     r"not waking up|won't wake(?: up)?|can't wake (?:him|her|them|\w+) up|can't wake|not moving|isn't moving|"
                     r"won't answer|no pulse|has no pulse|cold and blue|limp and)\b"),
    ("breathing", r"\b(?:not breathing|isn't breathing|stopped breathing|stops breathing|can't breathe|cannot breathe|"
                  r"can't get air|can't catch (?:my|his|her) breath|struggling to breathe|barely breathing|gasping|"
                  r"hard to breathe|trouble breathing|can barely (?:breathe|talk))\b"),
    ("breathing", r"\b(?:turning|turned|going|gone|went|is|looks?|lips (?:are|look|went)) (?:blue|grey|gray|purple)\b"),
    ("breathing", r"\b(?:choking|choked|something stuck in (?:his|her|my|their) throat)\b"),
    ("seizure", r"\b(?:seizing|seizure|convulsing|convulsions|having a fit|fitting|shaking all over)\b"),
    ("cardiac", r"\b(?:chest (?:pain|pressure|tightness|hurts|is tight|feels)|pain in (?:my|his|her) chest|(?:my|his|her) chest (?:hurts|is tight|feels)|"
                r"heart attack|cardiac arrest|heart (?:stopped|is racing|racing)|crushing pain|elephant (?:is )?sitting on)\b"),
    ("overdose", rf"\b(?:took|taken|swallowed|ate|had|injected|shot up|used|drank)\s+(?:\w+\s+){{0,2}}{_QTY}(?:\s+\w+){{0,3}}"),
    ("overdose", rf"\b{_QTY}\s+(?:of\s+)?(?:my\s+|his\s+|her\s+)?{_SUBST}"),
    ("overdose", r"\b(?:overdosed|overdosing|overdose on|od'd|od on|shot up too much)\b"),
    ("ingestion", rf"\b(?:swallowed|drank|ate|got into|chewed|sucked on|drinking|eaten)\s+(?:\w+\s+){{0,3}}{_CAUSTIC}"),
    ("suicide", r"\b(?:kill myself|killing myself|end my life|end it all|ending it all|take my (?:own )?life|suicide|suicidal|"
                r"don't want to (?:be here|live|be alive|wake up)|better off dead|nobody would miss me|no reason to live|"
                r"hang myself|hanging myself|the rope|a noose|jump(?:ing)? off|jump(?:ing)? from|drive into a wall|"
                r"cut my wrists|slit my wrists|cut myself|use it on myself|goodbye (?:letter|note)s?|wrote the letters|"
                r"can't do this anymore|sleep forever|pills lined up|standing on the (?:bridge|edge|roof|ledge))\b"),
    ("bleeding", r"\b(?:bleeding (?:heavily|a lot|badly|everywhere|out|profusely|non ?stop)|won't stop bleeding|can't stop the bleeding|"
                 r"bleeding (?:won't|will not|doesn't) stop|blood (?:everywhere|is spurting|spurting|is pouring|pouring)|spurting|"
                 r"soak(?:ed|ing)? (?:through )?(?:a |two |\d )?(?:pads?|towels?)|vomiting blood|throwing up blood|coughing up (?:a lot of )?blood|"
                 r"passing clots)\b"),
    ("bleeding", r"\b(?:pregnant|weeks pregnant|post ?partum|just gave birth)\b[^.!?]{0,60}\b(?:bleeding|blood|clots)\b|"
                 r"\b(?:bleeding|blood)\b[^.!?]{0,60}\b(?:pregnant|pregnancy|post ?partum)\b"),
    ("stroke", r"\b(?:face (?:is )?(?:drooping|droopy|crooked)|(?:face|mouth|smile) (?:is )?(?:droop|lopsided|crooked)\w*|droopy face|"
               r"(?:words|speech) (?:are |is )?(?:slurred|weird|garbled)|slurring|slurred speech|can't speak|cannot speak|can't talk properly|"
               r"can't (?:move|lift|feel) (?:my|his|her|their) (?:left |right )?(?:arm|leg|side|hand|face)|"
               r"can't move (?:his|her|my|their) (?:left|right) side|(?:left|right) side (?:is )?(?:weak|numb|dead)|"
               r"(?:arm|leg) (?:is |went |suddenly )*(?:weak|numb|limp|dead)|having a stroke)\b"),
    ("allergy", r"\b(?:throat (?:is )?(?:closing|swelling|tight)|(?:tongue|lips?|face) (?:and (?:lips?|tongue|face) )?(?:are |is )?swelling|"
                r"swelling (?:fast|up)|hard to swallow|can't swallow|anaphyla\w+|used (?:my|his|her) epi ?pen|epi ?pen)\b"),
    ("headache", r"\b(?:worst headache|thunderclap|sudden(?:ly)? (?:a )?(?:severe|terrible|excruciating|bad) headache|"
                 r"head (?:is )?exploding|headache (?:and|with) (?:a )?stiff neck)\b"),
    ("trauma", r"\b(?:stabbed|been shot|got shot|was shot|gunshot|hit by a car|run over|fell (?:off|from|down) (?:the |a )?"
               r"(?:roof|ladder|stairs|balcony|window)|hit (?:his|her|my) head|drowning|drowned|pulled (?:\w+ )?(?:out of|from) the "
               r"(?:pool|water|lake|river|bath)|electrocuted|severe burns?|on fire)\b"),
    ("hypoglycaemia", r"\b(?:sugar (?:is |reads |reading |of )?(?:low|[1-3](?:\.\d)?|[1-3]\d)\b|hypo(?:glycaemic|glycemic)? and)"),
]
# The words each event pattern above can begin with, in order (see scan.py).
_STARTS: list[tuple[str, ...]] = [
    ("collapsed", "collapsing", "passed", "fainted", "blacked", "keeled"),
    ("unconscious", "unresponsive", "not", "isn't", "won't", "wont", "doesn't", "can't", "no", "has", "cold", "limp"),
    ("not", "isn't", "stopped", "stops", "can't", "cannot", "struggling", "barely", "gasping", "hard", "trouble", "can"),
    ("turning", "turned", "going", "gone", "went", "is", "looks", "look", "lips"),
    ("choking", "choked", "something"),
    ("seizing", "seizure", "convulsing", "convulsions", "having", "fitting", "shaking"),
    ("chest", "pain", "my", "his", "her", "heart", "cardiac", "crushing", "elephant"),
    ("took", "taken", "swallowed", "ate", "had", "injected", "shot", "used", "drank"),
    ("a", "all", "way", "too", "like", DIGIT, "loads", "an", "double", "twice", "two"),
    ("overdosed", "overdosing", "overdose", "od'd", "od", "shot"),
    ("swallowed", "drank", "ate", "got", "chewed", "sucked", "drinking", "eaten"),
    ("kill", "killing", "end", "ending", "take", "suicide", "suicidal", "don't", "better", "nobody", "no", "hang", "hanging", "the", "a", "jump", "jumping", "drive", "cut", "slit", "use", "goodbye", "wrote", "can't", "sleep", "pills", "standing"),
    ("bleeding", "won't", "can't", "blood", "spurting", "soak", "soaked", "soaking", "vomiting", "throwing", "coughing", "passing"),
    ("pregnant", "weeks", "post", "postpartum", "just", "bleeding", "blood"),
    ("face", "mouth", "smile", "droopy", "words", "speech", "slurring", "slurred", "can't", "cannot", "left", "right", "arm", "leg", "having"),
    ("throat", "tongue", "lips", "lip", "face", "swelling", "hard", "can't", "anaphylaxis", "anaphylactic", "used", "epi", "epipen"),
    ("worst", "thunderclap", "sudden", "suddenly", "head", "headache"),
    ("stabbed", "been", "got", "was", "gunshot", "hit", "run", "fell", "drowning", "drowned", "pulled", "electrocuted", "severe", "on"),
    ("sugar", "hypo", "hypoglycaemic", "hypoglycemic"),
]
assert len(_STARTS) == len(EVENTS)
_EVENTS = Index([Rule(kind, re.compile(p), starts=st) for (kind, p), st in zip(EVENTS, _STARTS)]
                + [Rule(kind, re.compile(r"\b(?:" + p + r")(?![a-z])"), starts=first_words(p))
                   for kind, ps in PHRASES.items() for p in ps])

_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|me|my|mine|we|we're|our|us|myself)\b")
_BYSTANDER = re.compile(r"\b(?:there's|there is|there are)\s+(?:a|an|this|some)\b|\b(?:someone|somebody|this (?:guy|man|woman|lady|person|kid|boy|girl))\b|"
                        r"\b(?:a|an|the) (?:guy|man|woman|lady|person|kid|boy|girl|stranger|old man|old woman|old lady) "
                        r"(?:\w+ )?(?:next to me|near me|in front of me|here|on the (?:train|bus|street|floor)|in the (?:street|road|store|shop)|"
                        r"lying|is|just|has|at)\b")
_TIME = re.compile(r"\b(?:now|right now|rn|just|minutes? ago|mins? ago|min ago|an hour ago|hours? ago|tonight|this morning|"
                   r"currently|at the moment|suddenly|still|keeps|won't stop|isn't stopping|started|\d+ ?min(?:ute)?s?)\b")
_PLEA = re.compile(r"\b(?:help|please|what now|what do i do|what should i do|what can i do|what do we do|should i call|call 911|"
                   r"call an ambulance|ambulance|911|999|112|hurry|urgent|emergency|asap)\b|!{1}|\?{2}")
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
_TIME_WORDS = {"now", "rn", "just", "ago", "tonight", "currently", "moment", "suddenly", "still", "keeps", "started",
               "min", "mins", "minute", "minutes"}
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
    real = first or people or telegraphic or phrase_real or bool(words & _TIME_WORDS) or bool(words & _PLEA_WORDS) or "!" in scan or "??" in scan \
        or (len(tokens) <= 12 and not question) or bool(_BYSTANDER.search(scan)) or bool(_TIME.search(scan)) \
        or bool(_PLEA.search(scan))
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


__all__ = ["EmergencySignal", "emergency_signals", "EVENTS"]
