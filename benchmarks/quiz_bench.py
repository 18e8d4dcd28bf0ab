"""Quiz speed: the deck on a large library, and grammar-constrained question writing.

    python benchmarks/quiz_bench.py [--cases 100000] [--reviews 20000] [--generations 5]

Part 1 fills a real SQLite library with N generated cases (each with a five-option question),
then times what the Study tab does: bring the deck up to date with the case answer keys
(first time and when nothing changed), count what is due, build a 20-question quiz, record
reviews (FSRS + review log, one transaction each), and compute progress.

Part 2 builds a small random Qwen3 GGUF (0.43 B parameters, Qwen3-32B proportions, as
inference_bench) and times writing one question under the app's JSON schema: the app's path
(`generate_item` on LocalBackend) against raw llama-cpp-python `create_chat_completion` with
the same schema as `response_format`, and against unconstrained generation of the same
number of tokens, so the grammar's cost is visible. Last line:
`sync_100k_s=... build_ms=... review_ms=... grammar_tps_ratio=...`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from library_bench import generated_cases  # noqa: E402

from gazal_desktop.core.quiz_session import QuizSession  # noqa: E402
from gazal_desktop.core.scheduling import QuizScheduler  # noqa: E402
from gazal_desktop.library.cases import CaseStore  # noqa: E402
from gazal_desktop.library.db import Library  # noqa: E402
from gazal_desktop.library.quiz import QuizFilter, QuizStore  # noqa: E402


def timed(fn, rounds: int = 1):
    times, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def deck(n_cases: int, n_reviews: int, work: Path) -> dict:
    lib = Library.open(work)
    cases = CaseStore(lib)
    batch = []
    for c in generated_cases(n_cases):
        batch.append(c)
        if len(batch) == 5000:
            cases.add_many(batch)
            batch = []
    cases.add_many(batch)
    store = QuizStore(lib, QuizScheduler())
    changed, (first,) = timed(store.sync_authored)
    _, (again,) = timed(store.sync_authored)
    print(f"deck: {n_cases} cases -> {changed} items; sync {first:.2f} s first time, {again * 1000:.0f} ms unchanged")
    now = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
    # a history: n_reviews answers spread over 60 days
    items = store.build(QuizFilter(count=min(n_reviews, 5000), pools=("new",)), now)
    rec = []
    for i in range(n_reviews):
        it = items[i % len(items)]
        when = now - dt.timedelta(days=60) + dt.timedelta(minutes=i * 60 * 24 * 60 // max(1, n_reviews))
        s = QuizSession([it], "tutor", started_at=when)
        s.choose(it.answer if i % 4 else (it.answer + 1) % len(it.options), when)
        (snapshot,) = s.submit(when).record
        t0 = time.perf_counter()
        store.record(snapshot)
        rec.append(time.perf_counter() - t0)
    print(f"record a review: p50 {statistics.median(rec) * 1000:.2f} ms, "
          f"p95 {sorted(rec)[int(len(rec) * 0.95)] * 1000:.2f} ms ({n_reviews} reviews)")
    _, t_counts = timed(lambda: store.counts(now), 5)
    _, t_build = timed(lambda: store.build(QuizFilter(count=20, pools=("due", "new")), now), 5)
    _, t_filtered = timed(lambda: store.build(QuizFilter(count=20, specialties=["Cardiology"], tags=["ECG"],
                                                         pools=("due", "incorrect", "new")), now), 5)
    _, t_progress = timed(lambda: store.progress(now), 3)
    print(f"due count {statistics.median(t_counts) * 1000:.1f} ms; build 20 (due+new) "
          f"{statistics.median(t_build) * 1000:.1f} ms; filtered {statistics.median(t_filtered) * 1000:.1f} ms; "
          f"progress {statistics.median(t_progress) * 1000:.0f} ms")
    lib.close(backup=False)
    return {"sync_s": first, "build_ms": statistics.median(t_build) * 1000,
            "review_ms": statistics.median(rec) * 1000}


def generation(rounds: int, work: Path) -> float:
    from llama_cpp import LlamaGrammar

    from gazal_convert.llamalog import load_llama

    from gazal_convert.cli import main as convert
    from gazal_convert.synthetic import SyntheticSpec, build_checkpoint
    from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
    from gazal_desktop.core.quiz_gen import generate_item, generation_messages, item_schema
    from gazal_desktop.core.sampling import Sampling
    from gazal_desktop.library.cases import Case

    spec = SyntheticSpec(n_layers=8, hidden=1280, n_head=20, n_head_kv=4, head_dim=64, ffn=6912, vocab_size=151936,
                         max_positions=16384)
    ckpt = build_checkpoint(work / "ckpt", spec)
    gguf = work / "bench-q8_0.gguf"
    assert convert([str(ckpt), "--quant", "q8_0", "--outfile", str(gguf), "--progress", "none"]) == 0
    base = json.loads((Path(__file__).parents[1] / "resources" / "starter_cases.json").read_text())["cases"][0]
    case = Case(**{k: base[k] for k in ("title", "vignette", "specialty", "diagnosis", "key_findings", "management",
                                        "teaching_points")})
    schema = item_schema()
    ctx = 8192
    app = LocalBackend.load(gguf, LocalSettings(n_ctx=ctx, n_threads=2))
    app_tps, raw_tps, free_tps, lengths = [], [], [], []
    for seed in range(rounds):
        t0 = time.perf_counter()
        got = generate_item(app, case, sampling=Sampling(seed=seed))
        dt_app = time.perf_counter() - t0
        n = app.count_text(got.raw)
        lengths.append(n)
        app_tps.append(n / dt_app)
    app.close()
    llm = load_llama(gguf, n_ctx=ctx, n_threads=2, n_threads_batch=2)
    grammar_text = json.dumps(schema)
    for seed in range(rounds):
        t0 = time.perf_counter()
        out = llm.create_chat_completion(generation_messages(case), temperature=0.7, top_p=0.8, top_k=20, seed=seed,
                                         max_tokens=ctx // 2, response_format={"type": "json_object", "schema": schema})
        raw_tps.append(out["usage"]["completion_tokens"] / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        out = llm.create_chat_completion(generation_messages(case), temperature=0.7, top_p=0.8, top_k=20, seed=seed,
                                         max_tokens=lengths[seed])
        free_tps.append(out["usage"]["completion_tokens"] / (time.perf_counter() - t0))
    LlamaGrammar.from_json_schema(grammar_text)
    a, r, f = statistics.median(app_tps), statistics.median(raw_tps), statistics.median(free_tps)
    print(f"question writing ({rounds} runs, median; tokens/s include the prompt): app {a:.1f} tok/s, raw "
          f"llama-cpp-python with response_format {r:.1f} tok/s, unconstrained {f:.1f} tok/s; "
          f"reply {statistics.median(lengths)} tokens")
    return a / r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--reviews", type=int, default=20_000)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-quiz-bench-"))
    d = deck(args.cases, args.reviews, work / "library")
    ratio = generation(args.generations, work) if args.generations else float("nan")
    print(f"sync_{args.cases // 1000}k_s={d['sync_s']:.2f} build_ms={d['build_ms']:.1f} "
          f"review_ms={d['review_ms']:.2f} grammar_tps_ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
