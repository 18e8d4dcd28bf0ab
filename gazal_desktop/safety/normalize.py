"""Text as people type it in a hurry, made regular before the checks look at it: lower case,
straight apostrophes, contractions typed without one ("isnt", "hes", "cant"), repeated
punctuation, and the misspellings seen most in urgent messages."""

from __future__ import annotations

import re

# Reported speech in a teaching question ("a patient says 'I want to die'") is not the user.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'(?=[^']*\b[a-z])[^']{6,}'(?=\W|$)|‘[^’]*’")

_CONTRACTIONS = {
    "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't", "hasnt": "hasn't", "havent": "haven't",
    "hadnt": "hadn't", "doesnt": "doesn't", "dont": "don't", "didnt": "didn't", "cant": "can't", "couldnt": "couldn't",
    "wont": "won't", "wouldnt": "wouldn't", "shouldnt": "shouldn't", "im": "i'm", "ive": "i've", 
    "hes": "he's", "shes": "she's", "theyre": "they're", "youre": "you're", "thats": "that's", "theres": "there's",
    "whats": "what's", "weve": "we've", "theyve": "they've", "cannot": "cannot", "aint": "ain't",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "bc": "because", "cuz": "because",
}
_MISSPELLINGS = {
    "breathin": "breathing", "breating": "breathing", "brething": "breathing", "breathng": "breathing",
    "unconcious": "unconscious", "unconsious": "unconscious", "unconscius": "unconscious",
    "unresponsve": "unresponsive", "siezure": "seizure", "seizer": "seizure", "sezure": "seizure", "siezing": "seizing",
    "ceasing": "seizing", "overdoes": "overdose", "overdosd": "overdosed", "sucide": "suicide", "suicde": "suicide",
    "suicidle": "suicidal", "bleding": "bleeding", "bleedin": "bleeding", "chocking": "choking", "chokeing": "choking",
    "colapsed": "collapsed", "collasped": "collapsed", "collpased": "collapsed", "fainted": "fainted",
    "anaphalaxis": "anaphylaxis", "anaphylactic": "anaphylaxis", "allergic": "allergic", "swolen": "swollen",
    "swalled": "swallowed", "swallowd": "swallowed", "swollowed": "swallowed", "pils": "pills", "tabs": "tablets",
    "stabed": "stabbed", "stroek": "stroke", "drooling": "drooling", "dieing": "dying", "tonite": "tonight",
    "rite": "right", "nw": "now", "asap": "asap", "mum's": "mum", "mom's": "mom", "dad's": "dad",
}
_FIXES = {**_MISSPELLINGS, **_CONTRACTIONS}
_FIXES = {k: v for k, v in _FIXES.items() if k != v}
_EDGE = "\".,;:!?()[]{}<>*_~"


def blank_quotes(text: str) -> str:
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


def normalize(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    if "!!" in t or "??" in t or ".." in t:
        t = re.sub(r"([!?.])\1+", r"\1\1", t)  # "!!!!" -> "!!", "???" -> "??"
    words = t.split()
    fixes = _FIXES
    for i, w in enumerate(words):
        core = w.strip(_EDGE)
        new = fixes.get(core)
        if new is not None:
            words[i] = w.replace(core, new, 1)
    return " ".join(words)


__all__ = ["normalize", "blank_quotes"]
