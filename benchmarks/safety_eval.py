"""How well the emergency and identifiable-data checks do on text they were not written for.

    python benchmarks/safety_eval.py [--show-misses]

Reads the labelled sets in tests/data/safety/ (written for this project: realistic, varied,
half of them hard negatives). The "tune" part is every text the rules were adjusted while
looking at (*_pos, *_neg and *_fresh files); the "held-out" part (*_heldout files) was
written after the rules were finished, run once, and is reported as it came out. Prints, per part and per category, recall on real emergencies and
identifiers and the false-alarm rate on teaching and clinical texts, then the time to
check a 2,000-word message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "safety"
sys.path.insert(0, str(ROOT))

from gazal_desktop.safety import emergency_signals, phi_spans  # noqa: E402


# tune: every text the rules were adjusted while looking at; held-out: written after the
# rules were finished, run once and reported as it came out (never tuned on).
PARTS = ("tune", "held-out")


def load_emergency() -> list[dict]:
    rows = []
    for name, label in (("emergency_pos.txt", True), ("emergency_neg.txt", False)):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                cat, text = line.split("\t", 1)
                rows.append(dict(text=text, label=label, cat=cat, part="tune"))
    for name, which in (("emergency_fresh.txt", "tune"), ("emergency_round2.txt", "tune"), ("emergency_round3.txt", "tune"), ("emergency_round4.txt", "tune"), ("emergency_round5.txt", "tune"),
                        ("emergency_heldout.txt", "held-out")):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                sign, cat, text = line.split("\t", 2)
                rows.append(dict(text=text, label=sign == "pos", cat=cat, part=which))
    return rows


def load_identifiers() -> list[dict]:
    rows = []
    for line in (DATA / "identifiers_pos.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cat, text, ids = line.split("\t")
            rows.append(dict(text=text, ids=ids.split("|"), cat=cat, part="tune"))
    for line in (DATA / "identifiers_neg.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(dict(text=line, ids=[], cat="clinical", part="tune"))
    for name, which in (("identifiers_fresh.txt", "tune"), ("identifiers_round2.txt", "tune"), ("identifiers_round3.txt", "tune"), ("identifiers_round4.txt", "tune"), ("identifiers_round5.txt", "tune"),
                        ("identifiers_heldout.txt", "held-out")):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                sign, text, *ids = line.split("\t")
                rows.append(dict(text=text, ids=ids[0].split("|") if ids else [], cat="mixed" if ids else "clinical",
                                 part=which))
    return rows


def found(text: str, ident: str, spans) -> bool:
    start = text.index(ident)
    end = start + len(ident)
    return any(s.start < end and start < s.end for s in spans)


def evaluate(which: str) -> dict:
    """{part: {"recall": (hit, n), "false_alarms": (fa, n), "by_cat": {cat: (hit, n)}, "misses": [...]}}"""
    out = {p: {"recall": [0, 0], "false_alarms": [0, 0], "by_cat": defaultdict(lambda: [0, 0]), "misses": []}
           for p in PARTS}
    if which == "emergency":
        for r in load_emergency():
            o = out[r["part"]]
            hit = bool(emergency_signals(r["text"]))
            if r["label"]:
                o["recall"][1] += 1
                o["by_cat"][r["cat"]][1] += 1
                if hit:
                    o["recall"][0] += 1
                    o["by_cat"][r["cat"]][0] += 1
                else:
                    o["misses"].append(("missed", r["text"]))
            else:
                o["false_alarms"][1] += 1
                if hit:
                    o["false_alarms"][0] += 1
                    o["misses"].append(("false alarm", r["text"]))
    else:
        for r in load_identifiers():
            o = out[r["part"]]
            spans = phi_spans(r["text"])
            if r["ids"]:
                for ident in r["ids"]:
                    o["recall"][1] += 1
                    o["by_cat"][r["cat"]][1] += 1
                    if found(r["text"], ident, spans):
                        o["recall"][0] += 1
                        o["by_cat"][r["cat"]][0] += 1
                    else:
                        o["misses"].append(("missed " + ident, r["text"]))
            else:
                o["false_alarms"][1] += 1
                if spans:
                    o["false_alarms"][0] += 1
                    o["misses"].append(("false alarm " + repr([s.text for s in spans]), r["text"]))
    return out


def _message(texts: list[str], words: int) -> str:
    out, i = [], 0
    while sum(len(t.split()) for t in out) < words:
        out.append(texts[i % len(texts)])
        i += 1
    return " ".join(out)


def speed(words: int = 2000, reps: int = 100) -> dict[str, tuple[float, float]]:
    """Median ms of each check on two 2,000-word messages: clinical prose (teaching and
    clinical texts, the case editor's usual content) and the labelled mix (every sentence an
    emergency or an identifier, the worst case)."""
    emergency, ids = load_emergency(), load_identifiers()
    prose = _message([r["text"] for r in emergency if not r["label"]] + [r["text"] for r in ids if not r["ids"]], words)
    mix = _message([r["text"] for r in emergency] + [r["text"] for r in ids], words)
    emergency_signals(mix), phi_spans(mix)  # the lists are read once, on first use
    out = {}
    for name, message in (("clinical prose", prose), ("labelled mix", mix)):
        times = defaultdict(list)
        for _ in range(reps):
            t0 = time.perf_counter()
            emergency_signals(message)
            t1 = time.perf_counter()
            phi_spans(message)
            times["emergency"].append(t1 - t0)
            times["identifiers"].append(time.perf_counter() - t1)
        out[name] = (statistics.median(times["emergency"]) * 1000, statistics.median(times["identifiers"]) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--show-misses", choices=[*PARTS, "all"], help="list the texts each check got wrong")
    args = ap.parse_args()
    for which, pos, neg in (("emergency", "emergencies", "teaching texts"), ("identifiers", "identifiers", "clinical texts")):
        res = evaluate(which)
        print(f"{which} check")
        for p in PARTS:
            o = res[p]
            (h, n), (fa, nn) = o["recall"], o["false_alarms"]
            cats = ", ".join(f"{c} {a}/{b}" for c, (a, b) in sorted(o["by_cat"].items()))
            if not n or not nn:
                continue
            print(f"  {p:8s}: recall {h / n:.3f} ({h}/{n} {pos}), false alarms {fa / nn:.3f} ({fa}/{nn} {neg})")
            print(f"            by category: {cats}")
            if args.show_misses in (p, "all"):
                for why, text in o["misses"]:
                    print(f"      {why}: {text}")
    for name, (e_ms, i_ms) in speed().items():
        print(f"2,000-word message, {name}: emergency check {e_ms:.2f} ms, identifier check {i_ms:.2f} ms (median of 100)")


if __name__ == "__main__":
    main()
