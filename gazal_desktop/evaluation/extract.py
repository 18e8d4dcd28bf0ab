"""The option a reasoning model chose, read only from its answer (the text after its
reasoning), in this order: an explicit cue ("the answer is (C)", "Answer: C", "Correct answer -
**C**"; the last one wins), a lone option letter on a line, then the one option whose words
the answer quotes. Anything else is unparseable: never a guess."""

from __future__ import annotations

import re

from gazal_desktop.core.quiz import LETTERS, norm_text

CUE = re.compile(r"(?P<kw>(?i:answer|choice|option))\s*(?:is|would be|:|=|-|–)?\s*(?i:option\s*)?[*_`]*\s*"
                 r"(?P<open>[\(\[])?\s*(?P<letter>[A-Ja-j])(?P<close>\s*[\)\]])?", re.S)
LONE = re.compile(r"^\s*[*_`#>\-\s]*(?:[\(\[]\s*([A-Ja-j])\s*[\)\]]|([A-J]))\s*[.:)]?\s*[*_`]*\s*$", re.M)


def answer_part(reply: str) -> str:
    """The text after the reasoning: after the last </think> when the reply still holds it."""
    return reply.rsplit("</think>", 1)[-1] if "</think>" in reply else reply


def extract_answer(reply: str, options: list[str] | tuple[str, ...]) -> int | None:
    """The index of the chosen option, or None when the answer does not say clearly."""
    text = answer_part(reply)
    n = len(options)
    valid = LETTERS[:n]
    found = None
    for m in CUE.finditer(text):
        letter = m.group("letter")
        bracketed = bool(m.group("open") or m.group("close"))
        after = text[m.end():]
        glued = bool(re.match(r"[A-Za-z]", after))  # "Answer: Cardiac tamponade" is not C
        ends = not glued and not re.match(r"[\s*_`]*[a-z]", after)
        if m.group("kw").casefold() == "answer":
            # "the answer is C because...", but "the answer is a pulmonary embolism" is a word
            ok = not glued and (bracketed or letter.isupper() or ends)
        else:  # "option A is wrong" is not a choice; "choice: (A)" and "option B." are
            ok = not glued and (bracketed or ends)
        if ok:
            if letter.upper() in valid:
                found = valid.index(letter.upper())
    if found is not None:
        return found
    lone = [(m.group(1) or m.group(2)).upper() for m in LONE.finditer(text)]
    lone = [x for x in lone if x in valid]
    if lone:
        return valid.index(lone[-1])
    said = norm_text(text)
    hits = [i for i, o in enumerate(options) if (t := norm_text(o)) and re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", said)]
    if len(hits) == 1:
        return hits[0]
    return None
