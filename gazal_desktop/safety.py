"""Safety framing shared by the app, every export and the converter's GGUF metadata.

- the disclaimer text and its version;
- :func:`emergency_signals`: first-person, happening-now emergencies, which this app must
  not try to handle ("call your local emergency number");
- :func:`phi_spans` / :func:`redact`: identifiers of the HIPAA Safe Harbor list that a
  pattern can find, so real patient data does not slip into a teaching library.

Pattern-based on purpose: predictable, explainable, offline. No Qt here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DISCLAIMER_VERSION = "2026-11-1"

DISCLAIMER_TITLE = "Educational use only - not a medical device"

DISCLAIMER = (
    "Gazal Desktop and the Gazal-R1 model are research and education tools. They are NOT a "
    "medical device and must not be used to diagnose, treat or make decisions about real "
    "patients. Every output can be wrong and must be verified by a qualified health "
    "professional. Do not use this software in an emergency or for time-critical decisions: "
    "call your local emergency number. Do not enter identifiable patient data."
)

# One line, for places with little room: GGUF metadata, window banners, file footers.
MODEL_NOTE = (
    "Research/education model for clinical-reasoning practice on case vignettes. "
    "Not a medical device; outputs must be verified by a qualified professional; "
    "never for emergencies or real patient care."
)

EMERGENCY_MESSAGE = (
    "This app cannot help in an emergency. If you or someone with you may be in danger, call your "
    "local emergency number now (911 in the US and Canada, 112 in the EU, 999 in the UK). "
    "If you are thinking about suicide, contact a crisis line such as 988 in the US."
)


# -- emergencies -----------------------------------------------------------------------
@dataclass(frozen=True)
class EmergencySignal:
    kind: str  # cardiac, breathing, overdose, suicide, stroke, bleeding, seizure, unresponsive, allergy
    start: int
    end: int
    text: str


_ME = r"(?:i|i'm|i am|im|i've|i have|i've been|i feel|i'm feeling|i keep)"
_WHO = (r"(?:my|our)\s+(?:\w+\s+)?(?:dad|father|mom|mum|mother|son|daughter|husband|wife|partner|child|kid|baby|"
        r"toddler|friend|brother|sister|grand(?:ma|pa|mother|father)|boyfriend|girlfriend|roommate|uncle|aunt|"
        r"neighbou?r|colleague|coworker)")
# Ten or more of something that is not a dose ("I took 30 pills", not "I took 20 mg").
_MANY = r"[1-9]\d+(?![\d.])(?!\s*(?:mg|mcg|µg|g|ml|mL|units?|iu|IU)\b)"

_EMERGENCY_PATTERNS: list[tuple[str, str]] = [
    ("cardiac", rf"\b{_ME}\s+(?:having|got|getting|experiencing|feel(?:ing)?)\s+(?:a\s+|really\s+bad\s+|severe\s+|crushing\s+)?"
                r"(?:chest pain|chest pressure|tightness in my chest|heart attack|pain in my chest)"),
    ("cardiac", r"\bmy chest (?:hurts|is (?:tight|crushing|killing me)|feels (?:tight|heavy|like))"),
    ("cardiac", rf"\b{_WHO}\s+(?:is\s+)?(?:having|has)\s+(?:a\s+)?(?:heart attack|chest pain|cardiac arrest)"),
    ("breathing", rf"\b{_ME}\s+(?:can't|cannot|can not|am unable to|struggling to|barely)\s+breathe?"),
    ("breathing", rf"\b{_WHO}\s+(?:isn't|is not|isnt|stopped|has stopped|can't|cannot|is barely|is struggling to)\s+breath(?:e|ing)"),
    ("breathing", rf"\b{_WHO}\s+(?:is\s+)?(?:choking|turning blue|turned blue|going blue)"),
    ("unresponsive", rf"\b{_WHO}\s+(?:is\s+)?(?:unconscious|unresponsive|won't wake up|will not wake up|isn't waking up|"
                     r"collapsed|passed out and (?:won't|isn't)|has no pulse|doesn't have a pulse)"),
    ("overdose", rf"\b{_ME}\s+(?:just\s+)?(?:took|swallowed|overdosed|have taken|ate)\s+(?:on\s+)?"
                 r"(?:(?:a\s+)?(?:whole|entire)\s+(?:bottle|pack)|all\s+(?:of\s+)?(?:my|the)|too many|" + _MANY + r"|a (?:bunch|handful|lot) of|"
                 r"an overdose|my (?:pills|tablets|meds))"),
    ("overdose", rf"\b{_WHO}\s+(?:just\s+)?(?:took|swallowed|overdosed|ate)\s+(?:on\s+)?"
                 r"(?:(?:a\s+)?(?:whole|entire)\s+(?:bottle|pack)|all\s+(?:of\s+)?(?:his|her|their|the|my)|too many|" + _MANY + r"|a (?:bunch|handful) of|"
                 r"(?:his|her|their|my) (?:pills|tablets|meds))"),
    ("overdose", rf"\b{_ME}\s+(?:think i\s+)?overdosed\b"),
    ("suicide", rf"\b{_ME}\s+(?:want|wanna|going|plan(?:ning)?|about|trying|thinking about|decided)\s+(?:to\s+)?"
                r"(?:kill myself|end (?:my life|it all|it)|die|commit suicide|hurt myself|take my (?:own )?life)"),
    ("suicide", r"\b(?:i'm|i am|im)\s+(?:feeling\s+)?suicidal\b"),
    ("suicide", r"\bi (?:don't|do not) want to (?:live|be alive) any ?more\b"),
    ("suicide", rf"\b{_WHO}\s+(?:is\s+)?(?:threatening|trying|going|wants)\s+to\s+(?:kill (?:him|her|them)sel(?:f|ves)|end (?:his|her|their) life)"),
    ("stroke", r"\bmy (?:face|mouth|smile) (?:is|has|just|started)\s*(?:drooping|droop(?:ed)?|numb|lopsided)"),
    ("stroke", r"\bmy (?:left |right )?(?:arm|leg|side) (?:(?:is|has|just|went|suddenly|gone|feels|feel|got)\s+){1,3}"
               r"(?:weak|numb|limp|paralysed|paralyzed|dead)"),
    ("stroke", rf"\b{_ME}\s+(?:can't|cannot)\s+(?:speak|talk|move my (?:arm|leg|face))\b"),
    ("stroke", rf"\b{_WHO}\s+(?:is\s+)?(?:having a stroke|slurring|can't speak|can't move|face is drooping|face drooping)"),
    ("bleeding", rf"\b(?:{_ME}|{_WHO})\s+(?:is\s+)?(?:bleeding (?:heavily|a lot|badly|everywhere|out)|won't stop bleeding|can't stop the bleeding|"
                 r"vomiting blood|coughing up blood)"),
    ("bleeding", r"\bthe bleeding (?:won't|will not) stop\b"),
    ("seizure", rf"\b{_WHO}\s+(?:is\s+)?(?:having a seizure|seizing|convulsing|fitting)"),
    ("seizure", rf"\b{_ME}\s+(?:having|had) a seizure (?:right now|now)"),
    ("allergy", rf"\b(?:{_ME}|{_WHO}|my (?:throat|tongue|lips?))\s+(?:is\s+)?(?:swelling|closing up|throat is closing|can't swallow)"),
]
_EMERGENCY_RE = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _EMERGENCY_PATTERNS]

# Reported speech in a teaching question ("a patient says 'I want to die'") is not the user.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'(?=[^']*\b[a-z])[^']{6,}'(?=\W|$)|‘[^’]*’")


def _blank_quotes(text: str) -> str:
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


def emergency_signals(text: str) -> list[EmergencySignal]:
    """First-person or bystander emergencies happening now; [] for teaching content.

    "I'm having chest pain right now", "my dad isn't breathing", "I took 30 pills" are
    caught; "A 65-year-old man presents with chest pain" and "how do you manage an
    overdose?" are not.
    """
    scan = _blank_quotes(text.replace("’", "'"))
    found: list[EmergencySignal] = []
    for kind, rx in _EMERGENCY_RE:
        for m in rx.finditer(scan):
            if any(s.start <= m.start() < s.end for s in found):
                continue
            found.append(EmergencySignal(kind, m.start(), m.end(), text[m.start():m.end()]))
    return sorted(found, key=lambda s: s.start)


# -- identifiable data ------------------------------------------------------------------
@dataclass(frozen=True)
class PhiSpan:
    start: int
    end: int
    kind: str  # name, phone, fax, email, ssn, mrn, account, health_plan, license, device, date, age, address, zip, url, ip
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
_PHI_PATTERNS: list[tuple[str, str, int]] = [
    # (kind, pattern, group holding the identifier: 0 = whole match)
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0),
    ("url", r"\bhttps?://[^\s<>\"')]+|\bwww\.[^\s<>\"')]+", 0),
    ("ip", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b", 0),
    ("ssn", r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b", 0),
    ("ssn", r"\b(?:SSN|social security(?: number| no\.?)?)\s*[:#]?\s*(\d{9}|\d{3}[ -]\d{2}[ -]\d{4})\b", 1),
    ("fax", r"\bfax(?:\s*(?:number|no\.?))?\s*[:#]?\s*(\+?[\d][\d\s().-]{8,}\d)", 1),
    ("phone", r"(?<![\w/.])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b", 0),
    ("phone", r"\b(?:phone|tel|telephone|mobile|cell|call(?: me)?(?: at)?)\s*[:#]?\s*(\+?\d[\d\s().-]{7,}\d)", 1),
    ("mrn", r"\b(?:MRN|medical record(?:\s+(?:number|no\.?|#))?|chart(?:\s+(?:number|no\.?|#))|record\s*#|hospital (?:number|no\.?|id))"
            r"\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1),
    ("account", r"\b(?:account|acct)(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1),
    ("health_plan", r"\b(?:health plan|insurance|member|policy|beneficiary|medicare|medicaid)(?:\s+(?:id|number|no\.?|#))+\s*[:#]?\s*"
                    r"([A-Z0-9][A-Z0-9-]{4,})", 1),
    ("license", r"\b(?:licen[cs]e|DEA|NPI|certificate|driver'?s licen[cs]e)(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,})", 1),
    ("device", r"\b(?:serial(?:\s+(?:number|no\.?|#))?|S/N|SN|device (?:id|serial)|IMEI|UDI|VIN|pacemaker (?:serial|id)|"
               r"licen[cs]e plate|plate(?: number)?)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{4,})", 1),
    ("date", rf"\b(?:{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?(?:,?\s+\d{{4}})?)\b", 0),
    ("date", r"\b(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:19|20)?\d{2}\b", 0),
    ("date", r"\b(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|1[0-2])[/.-](?:19|20)\d{2}\b", 0),
    ("date", r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0),
    ("date", r"\b(?:DOB|date of birth|born(?: on)?|admitted(?: on)?|discharged(?: on)?|seen on|died(?: on)?)\s*[:#]?\s*"
             r"((?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01]))\b", 1),
    ("age", r"\b((?:9\d|1[0-2]\d)(?:[- ]?(?:year|yr)s?[- ]old|[- ]?y/?o\b|[- ]?yo\b))", 1),
    ("age", r"\b(?:aged?|age of)\s+((?:9\d|1[0-2]\d))\b", 1),
    ("address", r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|"
                r"Court|Ct|Way|Place|Pl|Terrace|Circle|Highway|Hwy|Parkway|Pkwy)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\s*\w+)?", 0),
    ("zip", r"\b(?:[A-Z]{2}|zip(?: code)?|postal code|postcode)\s*:?\s*(\d{5}(?:-\d{4})?)\b", 1),
    ("name", r"\b(?:Patient|Pt\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Dr\.?|Doctor|Prof\.?|Nurse|Name:|Patient name:|Signed:?|"
             r"Signed by:?|Sincerely,|Regards,|Attending:|Resident:)\s+(" + _NAME + r"(?:\s+[A-Z]\.)?(?:\s+" + _NAME + r"){0,2})(?![-\w])", 1),
    ("name", r"(?m)^\s*(?:--|—|–)\s*(?:Dr\.?\s+)?(" + _NAME + r"(?:\s+" + _NAME + r"){1,2})\s*(?:,\s*(?:MD|DO|RN|NP|PA|MBBS))?\s*$", 1),
]
_PHI_RE = [(kind, re.compile(p, re.IGNORECASE if kind not in ("name", "address", "zip") else 0), g)
           for kind, p, g in _PHI_PATTERNS]


def phi_spans(text: str) -> list[PhiSpan]:
    """Identifiers a pattern can find, as non-overlapping spans in text order.

    Clinical numbers (doses, lab values, vital signs, ages up to 89) are left alone.
    """
    spans: list[PhiSpan] = []
    for kind, rx, group in _PHI_RE:
        for m in rx.finditer(text):
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
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    merged: list[PhiSpan] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            continue  # the earlier (longer) span already covers it
        merged.append(s)
    return merged


def _looks_clinical(text: str, start: int) -> bool:
    before = text[max(0, start - 12):start].lower()
    return any(k in before for k in ("bp", "pressure", "mm hg", "mmhg", "platelets", "dose"))


LABELS = {
    "name": "[NAME]", "phone": "[PHONE]", "fax": "[FAX]", "email": "[EMAIL]", "ssn": "[SSN]", "mrn": "[MRN]",
    "account": "[ACCOUNT]", "health_plan": "[PLAN-ID]", "license": "[LICENSE]", "device": "[DEVICE-ID]",
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
