"""Identifiers of the HIPAA Safe Harbor list that patterns and name/place lists can find, so
real patient data does not slip into a teaching library.

Numbers and codes are found by their shape and the word before them (MRN, DOB, phone...);
names by a title ("Mr.", "Dr."), a relation ("her son David"), or as a first name and a
surname from the US Census lists ("Seen John Smith", "Smith, John A."); places as a city with
its state ("Springfield, IL"), a county, or a listed city after "from", "in", "near".
Clinical numbers (doses, ranges such as INR 4.5-10, vital signs, ages up to 89) and
eponyms ("Bell palsy", "Austin Flint murmur") are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gazal_desktop.safety.lists import STATES, first_names, last_names, us_places
from gazal_desktop.safety.scan import CAPITAL, CAPS2, DIGIT, Index, Rule, token_keys


@dataclass(frozen=True)
class PhiSpan:
    start: int
    end: int
    kind: str  # name, place, phone, fax, email, ssn, mrn, account, health_plan, license, device, date, age, address, zip, url, ip
    text: str


_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
           r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
# A capitalised word, with O'Neill / Smith-Jones style joins.
_NAME = r"[A-Z][a-z]*(?:['’][A-Z]?[a-z]+|-[A-Z][a-z]+)*[a-z]"
_NOT_NAMES = {
    "presents", "presented", "is", "was", "has", "had", "with", "history", "reports", "denies", "states", "complains",
    "admitted", "underwent", "received", "the", "a", "an", "and", "who", "in", "at", "on", "of", "for", "to",
    "office", "notes", "note", "education", "information", "safety", "care", "consent", "room", "unit", "age",
}
# A capitalised word followed by one of these is an eponym, not a person or a place.
_EPONYM_NEXT = re.compile(
    r"\s*(?:'s\s+)?(?:sign|signs|disease|syndrome|murmur|criteria|score|procedure|test|triad|law|reflex|phenomenon|"
    r"palsy|anomaly|lymphoma|formula|manoeuvre|maneuver|pattern|cells?|bod(?:y|ies)|classification|scale|rule|method|"
    r"operation|fracture|ulcer|tumou?r|pouch|triangle|node|virus|fever|spotted|equation|index|position|incision|"
    r"repair|block|ratio|curve|line|lines|fibres|fibers|approach|technique|staging|grade|type|class|tube|catheter|"
    r"nodule|nodes|hump|plus|pattern|foot|tear|phenomenon|effect|cyst|spots?|bodies|lesion|ring|deformity)\b",
    re.IGNORECASE)
_ORDINAL = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)"
_SPELLED_AGE = rf"(?:ninety|one hundred(?: and)?|a hundred(?: and)?|hundred and)(?:[- ]{_ORDINAL})?[- ](?:year|yr)s?[- ]old"
_CUE_DATE = r"\b(?:on|since|from|until|till|dated|seen|by|before|after|visit|appointment|due|booked|admission|surgery|clinic)\s+((?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2]))\b(?![/\d])"
_STATE_ABBR = "|".join(STATES)
_STATE_NAME = "|".join(sorted(STATES.values(), key=len, reverse=True))

_PHI_PATTERNS: list[tuple[str, str, int, int]] = [
    # (kind, pattern, group holding the identifier (0 = whole match), flags)
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0, re.I),
    ("url", r"\bhttps?://[^\s<>\"')]+|\bwww\.[^\s<>\"')]+", 0, re.I),
    ("ip", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b", 0, 0),
    ("ssn", r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b", 0, 0),
    ("ssn", r"\b(?:SSN|social security(?: number| no\.?)?)\s*[:#]?\s*(\d{9}|\d{3}[ -]\d{2}[ -]\d{4})\b", 1, re.I),
    ("fax", r"\bfax(?:\s*(?:number|no\.?))?\s*[:#]?\s*(\+?[\d][\d\s().-]{8,}\d)", 1, re.I),
    ("phone", r"(?<![\w/.])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b", 0, 0),
    ("phone", r"\b(?:phone|tel|telephone|mobile|cell|call(?: me)?(?: at| on)?|call back on)\s*[:#]?\s*(\+?\d[\d\s().-]{7,}\d)", 1, re.I),
    ("mrn", r"\b(?:MRN|MR\s*#|MR\s+(?:no\.?|number)|medical record(?:\s+(?:number|no\.?|#))?|chart(?:\s+(?:number|no\.?|#))|record\s*#|hospital (?:number|no\.?|id))"
            r"\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1, re.I),
    ("account", r"\b(?:account|acct)\b(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1, re.I),
    ("health_plan", r"\b(?:health plan|insurance|member|policy|beneficiary|medicare|medicaid)(?:\s*(?:id|number|no\.?|#))+\s*[:#]?\s*"
                    r"([A-Z0-9][A-Z0-9-]{4,})", 1, re.I),
    ("license", r"\b(?:licen[cs]e|DEA|NPI|certificate|driver'?s licen[cs]e)\b(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1, re.I),
    ("device", r"\b(?:serial(?:\s+(?:number|no\.?|#))?|S/N|SN|device (?:id|serial)|IMEI|UDI|VIN|pacemaker (?:serial|id)|"
               r"licen[cs]e plate|plate(?: number)?)(?<=\w)\b\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{4,})", 1, re.I),
    ("date", rf"\b(?:{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?(?:,?\s+\d{{4}})?)\b", 0, re.I),
    # month/day/year or day/month/year with the same separator twice ("4.5-10" is a range)
    ("date", r"(?<![\d.])(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:19|20)?\d{2}(?![\d.]|\s*(?:mg|mcg|ml|%|units?)\b)", 0, 0),
    ("date", r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0, 0),
    ("date", r"\b(?:DOB|date of birth|born(?: on)?|admitted(?: on)?|discharged(?: on)?|seen on|died(?: on)?)\s*[:#]?\s*"
             r"((?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01]))\b", 1, re.I),
    ("date", _CUE_DATE, 1, re.I),
    ("age", r"\b((?:9\d|1[0-2]\d)(?:[- ]?(?:year|yr)s?[- ]old|[- ]?y/?o\b|[- ]?yo\b|[- ]?y\.o\.))", 1, re.I),
    ("age", r"\b(?:aged?|age of)\s+((?:9\d|1[0-2]\d))\b", 1, re.I),
    ("age", rf"\b({_SPELLED_AGE})\b", 1, re.I),
    ("age", r"\b(?:is|aged?|age of|turned|turns)\s+((?:ninety|one hundred|a hundred)(?:[- ](?:and )?[a-z]+)?)\b", 1, re.I),
    ("address", r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|"
                r"Court|Ct|Way|Place|Pl|Terrace|Circle|Highway|Hwy|Parkway|Pkwy)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\s*\w+)?", 0, 0),
    ("zip", r"\b(?:[A-Z]{2}|(?i:zip(?: ?code)?|postal code|post ?code))\s*:?\s*(\d{5}(?:-\d{4})?)\b", 1, 0),
    ("name", r"\b(?:Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Dr\.?|Doctor|Prof\.?|Nurse|Name:|Patient name:|Signed:?|"
             r"Signed by:?|Sincerely,|Regards,|Attending:|Resident:)\s+(" + _NAME + r"(?:\s+[A-Z]\.)?(?:\s+" + _NAME + r"){0,2})(?![-\w])", 1, 0),
    ("name", r"(?m)^\s*(?:--|—|–)\s*(?:Dr\.?\s+)?(" + _NAME + r"(?:\s+" + _NAME + r"){1,2})\s*(?:,\s*(?:MD|DO|RN|NP|PA|MBBS))?\s*$", 1, 0),
]
_MONTH_WORDS = ("jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul", "july",
                "aug", "august", "sep", "sept", "september", "oct", "october", "nov", "november", "dec", "december")
# For each pattern above, in order: the words it can begin with (see scan.py); or, as a
# string, the marks whose presence makes it run over the whole text (it begins with no word).
_STARTS: list[tuple[str, ...] | str] = [
    "@", ("http", "https", "www"), (DIGIT,), (DIGIT,), ("ssn", "social"), ("fax",), (DIGIT, "(", "+"),
    ("phone", "tel", "telephone", "mobile", "cell", "call"), ("mrn", "mr", "medical", "chart", "record", "hospital"),
    ("account", "acct"), ("health", "insurance", "member", "policy", "beneficiary", "medicare", "medicaid"),
    ("licence", "license", "dea", "npi", "certificate", "driver", "driver's"),
    ("serial", "s", "sn", "device", "imei", "udi", "vin", "pacemaker", "licence", "license", "plate"),
    _MONTH_WORDS + (DIGIT,), (DIGIT,), (DIGIT,), ("dob", "date", "born", "admitted", "discharged", "seen", "died"),
    ("on", "since", "from", "until", "till", "dated", "seen", "by", "before", "after", "visit", "appointment",
     "due", "booked", "admission", "surgery", "clinic"),
    (DIGIT,), ("age", "aged"), ("ninety", "one", "a", "hundred"), ("is", "age", "aged", "turned", "turns"), (DIGIT,),
    (CAPS2, "zip", "zipcode", "postal", "post", "postcode"),
    ("mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "nurse", "name", "patient", "signed", "sincerely", "regards",
     "attending", "resident"),
    "— -- –",
]
assert len(_STARTS) == len(_PHI_PATTERNS)
_RULES = [(Rule(kind, re.compile(p, flags), g, starts if isinstance(starts, tuple) else ()), starts)
          for (kind, p, g, flags), starts in zip(_PHI_PATTERNS, _STARTS)]
_PHI = Index(rule for rule, starts in _RULES if isinstance(starts, tuple))
_FULL = [(rule, starts.split()) for rule, starts in _RULES if isinstance(starts, str)]

# "Patient Rodriguez", "Pt: Aisha Rahman": a name only when the list knows it ("Pt Alert" is not).
_PATIENT_CUE = re.compile(r"\b(?:Patient|Pt\.?)\s*:?\s+(" + _NAME + r"(?:\s+" + _NAME + r")?)")
_RELATION = re.compile(
    r"\b(?i:son|daughter|husband|wife|partner|mother|father|mum|mom|dad|brother|sister|friend|neighbou?r|carer|caregiver|"
    r"boyfriend|girlfriend|fianc[eé]e?|uncle|aunt|grandson|granddaughter|grandmother|grandfather|niece|nephew|cousin|"
    r"contact|bystander|witness|visitor|caller|colleague|flatmate|roommate|housemate)(?:-in-law)?\b[:,]?\s*\(?(" + _NAME + r")\b")
_NAME_THEN_RELATION = re.compile(r"\b(" + _NAME + r")\s*\((?:son|daughter|husband|wife|partner|mother|father|brother|sister|"
                                 r"friend|neighbou?r|carer|niece|nephew|cousin)\)")
_CAPS_RUN = re.compile(r"\b" + _NAME + r"(?:\s+[A-Z]\.)?(?:\s+" + _NAME + r"){1,2}\b")
_LAST_FIRST = re.compile(r"\b(" + _NAME + r"),\s+(" + _NAME + r")(?:\s+[A-Z]\.)?")
_CITY_STATE = re.compile(r"\b((?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})),\s*(" + _STATE_ABBR + r"|" + _STATE_NAME + r")\b")
_COUNTY = re.compile(r"\b((?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})\s+(?:County|Parish|Borough))\b")
_PLACE_CUE = re.compile(r"\b(?:from|in|near|to|around|outside|visiting|lives in|living in|resident of|moved to)\s+"
                        r"([A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})\b")
# Listed cities that are everyday or clinical words after "in"/"from" far more often than places.
_PLACE_WORDS = {"Reading", "Normal", "Mobile", "Temple", "Hope", "Marshall", "Union", "Liberty", "Independence",
                "Commerce", "Industry", "Enterprise", "Mission", "Paradise", "Opportunity", "Eagle", "Alert", "Bath",
                "Florence", "Grant", "Lyme", "Carmel", "Orange", "Pleasant", "Deal", "Surprise", "Magnolia", "Avon",
                "Medical", "Clinton", "Washington", "Lincoln", "Jackson", "Franklin", "Monday", "Friday", "Troy",
                "Salem", "Aurora", "Phoenix", "Sterling", "Winter", "Summer", "Spring", "Parker", "Bell", "Hartford"}
_CLINICAL_CAPS = {"Primary", "Diagnosis", "Reasoning", "Immediate", "Management", "Follow", "Case", "Patient", "Step"}


def _is_first(word: str) -> bool:
    return word.lower().strip("'’") in first_names()


def _is_last(word: str) -> bool:
    w = word.lower()
    return w in last_names() or w.replace("'", "").replace("’", "") in last_names() or \
        any(part in last_names() for part in w.split("-") if len(part) > 2)


def _eponym_after(text: str, end: int) -> bool:
    return bool(_EPONYM_NEXT.match(text, end))


_RELATION_WORDS = ("son", "daughter", "husband", "wife", "partner", "mother", "father", "mum", "mom", "dad", "brother",
                   "sister", "friend", "neighbour", "neighbor", "carer", "caregiver", "boyfriend", "girlfriend", "fiance",
                   "fiancee", "uncle", "aunt", "grandson", "granddaughter", "grandmother", "grandfather", "niece", "nephew",
                   "cousin", "contact", "bystander", "witness", "visitor", "caller", "colleague", "flatmate", "roommate",
                   "housemate")
_SHAPES = Index([
    Rule("patient", _PATIENT_CUE, starts=("patient", "pt")),
    Rule("relation", _RELATION, starts=_RELATION_WORDS),
    Rule("relation", _NAME_THEN_RELATION, starts=(CAPITAL,)),
    Rule("last_first", _LAST_FIRST, starts=(CAPITAL,)),
    Rule("run", _CAPS_RUN, starts=(CAPITAL,)),
    Rule("city_state", _CITY_STATE, starts=(CAPITAL,)),
    Rule("county", _COUNTY, starts=(CAPITAL,)),
    Rule("place_cue", _PLACE_CUE, starts=("from", "in", "near", "to", "around", "outside", "visiting", "lives", "living",
                                          "resident", "moved")),
])


def _shape_spans(text: str, tokens, exhaustive: bool) -> list[PhiSpan]:
    """Names and places found by their shape and the lists."""
    out: list[PhiSpan] = []
    for rule, m in _SHAPES.matches(text, tokens, exhaustive):
        out += _HANDLERS[rule.kind](text, m)
    return out


def _patient(text: str, m: re.Match) -> list[PhiSpan]:
    words = m.group(1).split()
    if any(_is_first(w) or _is_last(w) for w in words) and not _eponym_after(text, m.end(1)):
        return [PhiSpan(m.start(1), m.end(1), "name", m.group(1))]
    return []


def _relation(text: str, m: re.Match) -> list[PhiSpan]:
    """"her son David", "Wife (Linda)", "son, Ibrahim": after a relation word a capitalised
    word is a name, listed or not, unless it is an everyday capitalised word."""
    name = m.group(1)
    if not _is_first(name) and (name in _CLINICAL_CAPS or name in _NOT_FIRST or name.lower() in _COMMON_CAPS):
        return []
    rest = re.match(r"(?:\s+[A-Z][a-z]+)*", text[m.end(1):])  # "Sister Mary Joseph nodule" is an eponym
    if _eponym_after(text, m.end(1) + rest.end()):
        return []
    return [PhiSpan(m.start(1), m.end(1), "name", m.group(1))]


def _last_first(text: str, m: re.Match) -> list[PhiSpan]:
    """"Smith, John": both in the lists, or any two capitalised words followed by an age and
    sex in shorthand ("Obi, Chukwuemeka 59M")."""
    known = _is_last(m.group(1)) and _is_first(m.group(2))
    if (known or _AGE_SEX.match(text, m.end())) and m.group(2) not in STATES.values() and m.group(1) not in _CLINICAL_CAPS:
        return [PhiSpan(m.start(), m.end(), "name", m.group(0))]
    return []


_AGE_SEX = re.compile(r"[,\s—–-]+\d{1,3}\s?(?:[MFmf]\b|y/?o\b|yo\b|yrs?\b|years?\b)")


def _run(text: str, m: re.Match) -> list[PhiSpan]:
    """The first first-name + surname pair inside a run of capitalised words ("Seen John Smith")."""
    words = [(w.start(), w.end(), w.group(0)) for w in re.finditer(r"\S+", m.group(0))]
    for i in range(len(words) - 1):
        (s0, _, first), (_, e1, last) = words[i], words[i + 1]
        if first in _CLINICAL_CAPS or last in _CLINICAL_CAPS or _eponym_after(text, m.start() + e1):
            continue
        mid_sentence = i > 0 or _mid_sentence(text, m.start())
        if (_is_first(first) and _is_last(last)) or (mid_sentence and _is_last(last) and len(first) > 2
                                                      and first not in _NOT_FIRST):
            return [PhiSpan(m.start() + s0, m.start() + e1, "name", text[m.start() + s0:m.start() + e1])]
    return []


# Capitalised words that can follow "sister", "contact", "partner" without being a name.
_COMMON_CAPS = {"ward", "nurse", "in", "of", "the", "a", "an", "and", "is", "was", "has", "had", "present", "details",
                "number", "unit", "team", "care", "practice", "surgery", "clinic", "hospital", "dr", "doctor", "mr", "mrs",
                "ms", "who", "with", "at", "on", "for", "not", "name", "informed", "aware", "agrees", "called", "phoned"}
# Capitalised words that come before a surname-like word without being a first name.
_NOT_FIRST = {"The", "This", "That", "His", "Her", "Their", "Our", "Your", "New", "North", "South", "East", "West",
              "Saint", "Fort", "Mount", "Lake", "Port", "San", "Santa", "Los", "Las", "Upper", "Lower", "Great",
              "General", "Royal", "County", "City", "State", "University", "Hospital", "Medical", "Centre", "Center"}


def _mid_sentence(text: str, start: int) -> bool:
    """Whether a word at `start` follows other words of its sentence (so its capital is its own)."""
    before = text[:start].rstrip()
    return bool(before) and before[-1] not in ".!?:\n\"'(“-—–" and not before.endswith(("Dr", "Mr", "Mrs", "Ms"))


def _city_state(text: str, m: re.Match) -> list[PhiSpan]:
    city, state = m.group(1), m.group(2)
    if city in us_places() or (len(state) > 2 and city not in _CLINICAL_CAPS) or city.split()[-1] in us_places():
        start = m.start(1) if city in us_places() or len(city.split()) == 1 else m.end(1) - len(city.split()[-1])
        return [PhiSpan(start, m.end(), "place", text[start:m.end()])]
    return []


def _county(text: str, m: re.Match) -> list[PhiSpan]:
    return [PhiSpan(m.start(1), m.end(1), "place", m.group(1))]


def _place_cue(text: str, m: re.Match) -> list[PhiSpan]:
    words = m.group(1).split()
    for n in range(len(words), 0, -1):  # the longest listed prefix: "Fort Worth Texas" -> "Fort Worth"
        cand = " ".join(words[:n])
        if cand in us_places() and cand not in _PLACE_WORDS:
            end = m.start(1) + len(cand)
            return [] if _eponym_after(text, end) else [PhiSpan(m.start(1), end, "place", cand)]
    return []


_HANDLERS = {"patient": _patient, "relation": _relation, "last_first": _last_first, "run": _run,
             "city_state": _city_state, "county": _county, "place_cue": _place_cue}


def phi_spans(text: str, exhaustive: bool = False) -> list[PhiSpan]:
    """Identifiers, as non-overlapping spans in text order (overlapping finds are joined).
    `exhaustive`: try every pattern at every position (slow; the tests compare the two)."""
    spans: list[PhiSpan] = []
    tokens = token_keys(text)
    found = list(_PHI.matches(text, tokens, exhaustive))
    for rule, marks in _FULL:
        if any(mark in text for mark in marks):
            found += [(rule, m) for m in rule.rx.finditer(text)]
    for rule, m in found:
        kind, group = rule.kind, rule.group
        start, end = m.span(group)
        if start < 0:
            continue
        value = text[start:end]
        if kind == "name":
            first = value.split()[0].lower().strip("'’")
            if first in _NOT_NAMES:
                continue
            value = value.rstrip()
            end = start + len(value)
        if kind == "phone" and _looks_clinical(text, start):
            continue
        spans.append(PhiSpan(start, end, kind, value))
    spans += _shape_spans(text, tokens, exhaustive)
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    merged: list[PhiSpan] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            if s.end > merged[-1].end:  # overlapping: one span covering both
                last = merged[-1]
                merged[-1] = PhiSpan(last.start, s.end, last.kind, text[last.start:s.end])
            continue
        merged.append(s)
    return merged


def _looks_clinical(text: str, start: int) -> bool:
    before = text[max(0, start - 12):start].lower()
    return any(k in before for k in ("bp", "pressure", "mm hg", "mmhg", "platelets", "dose"))


LABELS = {
    "name": "[NAME]", "place": "[PLACE]", "phone": "[PHONE]", "fax": "[FAX]", "email": "[EMAIL]", "ssn": "[SSN]",
    "mrn": "[MRN]", "account": "[ACCOUNT]", "health_plan": "[PLAN-ID]", "license": "[LICENSE]", "device": "[DEVICE-ID]",
    "date": "[DATE]", "age": "[AGE>89]", "address": "[ADDRESS]", "zip": "[ZIP]", "url": "[URL]", "ip": "[IP]",
}


def redact(text: str, spans: list[PhiSpan] | None = None) -> str:
    """Replace each identifier with a label such as [NAME] or [DATE]."""
    spans = phi_spans(text) if spans is None else spans
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        if s.start < pos:
            continue
        out.append(text[pos:s.start])
        out.append(LABELS.get(s.kind, "[REDACTED]"))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


__all__ = ["PhiSpan", "phi_spans", "redact", "LABELS"]
