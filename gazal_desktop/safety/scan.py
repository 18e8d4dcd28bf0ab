"""Running many patterns over a long text fast: each pattern is tried only where one of the
words it can begin with stands (an inverted index from first words to patterns), instead of
at every character. A 2,000-word message has about 2,000 word starts and a few hundred
that any pattern can begin at; a full scan per pattern tries 12,000 positions each.

`exhaustive=True` runs every pattern over the whole text instead: the tests compare both on
the labelled sets, so a missing first word shows up as a difference.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Iterator

_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+|[(+]")

DIGIT, CAPITAL, CAPS2 = "#", "^", "AA"  # keys for: a number, a capitalised word, two capital letters


@dataclass(frozen=True)
class Rule:
    kind: str
    rx: re.Pattern
    group: int = 0
    starts: tuple[str, ...] = ()  # lower-case first words, or DIGIT / CAPITAL / CAPS2


_PUNCT = "\"'“”‘’.,;:!?()[]{}<>*_~"


def _keys(w: str) -> tuple[str, ...]:
    if w.isdigit():
        return (DIGIT,)
    if w[0].isupper():
        return (w.lower(), CAPITAL, CAPS2) if len(w) == 2 and w.isupper() else (w.lower(), CAPITAL)
    return (w.lower(),)


_WORD_KEYS: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {}  # a whitespace word -> (offset, keys) of its tokens


def _word_tokens(w: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    out = []
    if w[0] in "(+":
        out.append((0, (w[0],)))
    core = w.strip(_PUNCT)
    if core:
        if core.isalpha() or core.isdigit() or core.replace("'", "").replace("’", "").isalpha():
            out.append((w.index(core), _keys(core)))
        else:
            out += [(m.start(), _keys(m.group(0))) for m in _TOKEN.finditer(w) if m.group(0) not in "(+"]
    return tuple(out)


def token_keys(text: str) -> list[tuple[int, tuple[str, ...]]]:
    """(start, keys) of each word: its lower-case form, and DIGIT / CAPITAL / CAPS2 where they
    apply. Whitespace-split words cover most text at C speed; a word with inner punctuation
    ("03/14/1950", "54F") is split further. Words repeat, so each is read once."""
    out = []
    pos = 0
    find = text.find
    cache = _WORD_KEYS
    if len(cache) > 50_000:
        cache.clear()
    for w in text.split():
        pos = find(w, pos)
        toks = cache.get(w)
        if toks is None:
            toks = cache[w] = _word_tokens(w)
        for off, keys in toks:
            out.append((pos + off, keys))
        pos += len(w)
    return out


class Index:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self._by_key: dict[str, list[Rule]] = defaultdict(list)
        for r in self.rules:
            for k in r.starts:
                self._by_key[k].append(r)

    def matches(self, text: str, tokens: list[tuple[int, tuple[str, ...]]] | None = None,
                exhaustive: bool = False) -> Iterator[tuple[Rule, re.Match]]:
        if exhaustive:
            for r in self.rules:
                for m in r.rx.finditer(text):
                    yield r, m
            return
        by_key = self._by_key
        for start, keys in (token_keys(text) if tokens is None else tokens):
            for k in keys:
                for r in by_key.get(k, ()):
                    m = r.rx.match(text, start)
                    if m:
                        yield r, m


__all__ = ["Rule", "Index", "token_keys", "DIGIT", "CAPITAL", "CAPS2"]
