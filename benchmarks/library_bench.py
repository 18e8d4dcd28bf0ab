"""Case library speed and size with many cases.

    python benchmarks/library_bench.py --cases 100000 [--import-lines 100000] [--workdir DIR]

Fills a fresh library (a real SQLite file) with N generated cases, then reports insert
throughput, database size and the p50/p95 latency of typical searches (single words,
prefixes as typed, two words, with a specialty filter, rare and common terms).
Last line: `fts_p95_ms=X`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from gazal_desktop import resources
from gazal_desktop.library.cases import Case, CaseStore
from gazal_desktop.library.db import Library

QUERIES = ["pneumonia", "chest pain", "pneu", "st elevation", "potassium", "fever", "warfarin inr",
           "anaphylaxis", "diabetic", "meningitis neck", "hyponatremia", "the", "stemi", "lithium",
           "culture", "tamponade", "sarcoid", "ketoacidosis", "renal failure", "acetaminophen"]


def generated_cases(n: int, seed: int = 0):
    """Variations of the starter cases: shuffled sentences, other ages, mixed tags."""
    base = json.loads(resources.read_text("starter_cases.json"))["cases"]
    words = sorted({w.strip(".,;:()").lower() for c in base for w in c["vignette"].split() if len(w) > 4})
    rng = random.Random(seed)
    for i in range(n):
        b = base[i % len(base)]
        sentences = b["vignette"].split(". ")
        rng.shuffle(sentences)
        extra = " ".join(rng.sample(words, 12))
        yield Case(
            title=f"{b['title']} #{i}", vignette=f"A {rng.randint(18, 89)}-year-old. " + ". ".join(sentences) + " " + extra,
            specialty=b["specialty"], tags=b["tags"] + [rng.choice(["ward", "clinic", "ED", "ICU"])],
            difficulty=rng.choice(["easy", "medium", "hard"]), diagnosis=b["diagnosis"],
            mcq_question=b["mcq_question"], mcq_options=b["mcq_options"], mcq_answer=b["mcq_answer"],
            origin="import",
        )


def import_while_saving(lib: Library, n_lines: int, batch: int | None = None, first: int = 0) -> float:
    """A MedQA import of n_lines on its own connection (as the app runs it) while the app's
    connection saves a small change every 50 ms: the longest any save waited. `batch`: cases
    per transaction (default: the app's IMPORT_BATCH; a huge number is the old one-transaction
    import, whose saves fail after SQLite's 5 s busy timeout)."""
    import sqlite3
    import threading

    from gazal_desktop.library import exchange
    from gazal_desktop.library.exchange import import_medqa_jsonl

    if batch is not None:
        exchange.IMPORT_BATCH, saved_batch = batch, exchange.IMPORT_BATCH

    lines = (json.dumps({"question": f"A {20 + i % 60}-year-old, question {i}, has fever. What is the diagnosis?",
                         "options": {"A": "Pneumonia", "B": "Asthma", "C": "Gout", "D": "Migraine"},
                         "answer_idx": "A"}) for i in range(first, first + n_lines))
    second = lib.second_connection()
    t0 = time.perf_counter()
    worker = threading.Thread(target=lambda: import_medqa_jsonl(CaseStore(second), lines))
    worker.start()
    waits, failed = [], 0
    while worker.is_alive():
        t = time.perf_counter()
        try:
            lib.set_meta("bench_save", str(t))
        except sqlite3.OperationalError:  # "database is locked": the save is lost
            failed += 1
        waits.append((time.perf_counter() - t) * 1000)
        time.sleep(0.05)
    worker.join()
    second.db.conn.close()
    if batch is not None:
        exchange.IMPORT_BATCH = saved_batch
    how = "one transaction" if batch and batch >= n_lines else f"batches of {batch or exchange.IMPORT_BATCH}"
    print(f"imported {n_lines:,} MedQA lines ({how}) in {time.perf_counter() - t0:.1f} s while saving every 50 ms: "
          f"{len(waits)} saves, {failed} failed, longest wait {max(waits):.0f} ms, "
          f"median {statistics.median(waits):.1f} ms")
    return max(waits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--import-lines", type=int, default=100_000,
                    help="then import this many MedQA lines while saving every 50 ms (0: skip)")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--rounds", type=int, default=5, help="times each query is run")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-library-bench-"))
    lib = Library.open(work)
    store = CaseStore(lib)
    t0 = time.perf_counter()
    batch = []
    for case in generated_cases(args.cases):
        batch.append(case)
        if len(batch) == 2000:
            store.add_many(batch)
            batch = []
    store.add_many(batch)
    t_insert = time.perf_counter() - t0
    lib.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in work.glob("library.db*"))
    print(f"inserted {args.cases:,} cases in {t_insert:.1f} s ({args.cases / t_insert:,.0f} cases/s), "
          f"database {size / 1e6:.0f} MB")

    timings: list[float] = []
    per_query = {}
    specialties = store.specialties()
    for q in QUERIES:
        for r in range(args.rounds):
            spec = specialties[r % len(specialties)] if r % 2 else None
            t = time.perf_counter()
            hits = store.search(q, specialty=spec, limit=50)
            dt = (time.perf_counter() - t) * 1000
            timings.append(dt)
            per_query.setdefault(q, []).append((dt, len(hits)))
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    slowest = max(per_query.items(), key=lambda kv: max(t for t, _ in kv[1]))
    print(f"{len(timings)} searches (top 50 with snippets, half with a specialty filter): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms (slowest query: {slowest[0]!r})")
    t = time.perf_counter()
    store.list(specialty=specialties[0], limit=100)
    print(f"list one specialty (100 newest): {(time.perf_counter() - t) * 1000:.1f} ms")
    wait_ms = None
    if args.import_lines:
        wait_ms = import_while_saving(lib, args.import_lines)
        # the old way (one transaction), same run, new lines, for comparison
        import_while_saving(lib, args.import_lines, batch=10**9, first=args.import_lines)
    lib.close()
    if wait_ms is not None:
        print(f"import_lines={args.import_lines} longest_save_wait_ms={wait_ms:.0f}")
    print(f"cases={args.cases} insert_per_s={args.cases / t_insert:.0f} db_mb={size / 1e6:.0f} "
          f"fts_p50_ms={p50:.1f} fts_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
