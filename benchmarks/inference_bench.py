"""Inference overhead of the app's backend, and what KV-cache reuse buys in a long chat.

    python benchmarks/inference_bench.py [--quick] [--workdir DIR]

Builds a synthetic Qwen3 (~0.43 B parameters, random weights run at the speed of trained
ones) with gazal-convert (q8_0), then on the same GGUF, prompt and seed, in one run:

1. tokens/s of a bare llama-cpp-python generation loop vs the app's LocalBackend.stream
   (events, reasoning parser, stop checks, the model card's reasoning budget and the loop
   guard included) -> overhead_ratio = app / raw; and the speed of a reply whose reasoning
   is closed halfway (the closing words read into the cache count against it);
2. a 10-turn chat through ChatSession (budgets on): time to first token of turn 10 vs turn 2
   -> followup_ttft_ratio (and the same without KV reuse, for comparison). As in the app,
   each finished exchange is read into the KV cache (ChatSession.prefill) before the
   next message, so a follow-up reads only the new message.

The last line is `overhead_ratio=X followup_ttft_ratio=Y`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gazal_convert.cli import main as convert_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint
from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import Usage
from gazal_desktop.core.sampling import BUILTIN_PRESETS, MODEL_CARD, Sampling

# Qwen3-32B's proportions scaled down: FFN 5x hidden, head_dim 128, 8:1 grouped-query
# attention. (A thin, deep model would overstate attention's share of the work.)
SPEC = SyntheticSpec(n_layers=5, hidden=2048, n_head=16, n_head_kv=2, head_dim=128, ffn=10240,
                     vocab_size=16384, max_positions=8192, std=0.05)
VIGNETTE = ("A 58-year-old man presents with 45 minutes of crushing substernal chest pain radiating to the "
            "left arm. He is diaphoretic; blood pressure 150/90 mm Hg, heart rate 104/min. ECG shows "
            "ST-segment elevation in leads II, III and aVF.")
# Ten follow-ups of the same token length, so turn 10 differs from turn 2 only in how much
# conversation comes before it.
QUESTIONS = [f"Follow-up {i}: what should the team do next for this patient, and why?" for i in range(10)]
ANSWER = ("Primary Diagnosis: inferior ST-elevation myocardial infarction. Immediate Management: aspirin, "
          "a P2Y12 inhibitor, heparin and emergent PCI within 90 minutes. Follow-up: echocardiogram.")


def params(spec: SyntheticSpec) -> int:
    return sum(int.__mul__(*s) if len(s) == 2 else s[0] for s in spec.shapes().values())


def build_model(work: Path) -> Path:
    out = work / "bench-q8_0.gguf"
    if not out.exists():
        ckpt = build_checkpoint(work / "ckpt", SPEC, fast_fill=False)
        rc = convert_main([str(ckpt), "--quant", "q8_0", "--outfile", str(out), "--progress", "none"])
        if rc:
            sys.exit(rc)
    return out


def raw_tps(llm, prompt_tokens: list[int], n: int, s: Sampling) -> float:
    """A bare llama-cpp-python loop: the fastest the bindings can go."""
    llm.reset()
    llm.set_seed(s.seed)
    t_first = None
    count = 0
    for tok in llm.generate(prompt_tokens, top_k=s.top_k, top_p=s.top_p, min_p=s.min_p, temp=s.temperature,
                            repeat_penalty=s.repeat_penalty):
        count += 1
        if t_first is None:
            t_first = time.perf_counter()
        if count >= n:
            break
    return (count - 1) / (time.perf_counter() - t_first)


def app_tps(backend: LocalBackend, messages: list[dict], s: Sampling) -> tuple[float, int]:
    """The app's stream with the model card's budgets on (reasoning 4,096, so the budget
    counting and the loop guard run on every token). The backend's context ends n tokens
    after the prompt, so the reply stops there, as the raw loop does."""
    backend.llm.reset()
    usage = None
    for ev in backend.stream(messages, s):
        if isinstance(ev, Usage):
            usage = ev
    return usage.gen_tps or 0.0, usage.completion_tokens


def closing_tps(backend: LocalBackend, messages: list[dict], n: int, s: Sampling) -> tuple[float, int]:
    """A reply whose reasoning is cut at n/2 tokens: the closing words read into the cache
    count against the speed."""
    backend.llm.reset()
    usage = None
    for ev in backend.stream(messages, replace(s, reasoning_budget=n // 2, max_tokens=n // 2)):
        if isinstance(ev, Usage):
            usage = ev
    return usage.gen_tps or 0.0, usage.completion_tokens


def chat_ttfts(backend: LocalBackend, turns: int, reuse: bool, max_tokens: int) -> list[float]:
    backend.llm.reset()
    # budgets on, as in the app: reasoning closed halfway, the answer on its own budget
    chat = ChatSession(backend, VIGNETTE, Sampling(max_tokens=max_tokens // 2, reasoning_budget=max_tokens // 2, seed=11),
                       prefill_after_reply=False)
    ttfts = []
    for q in QUESTIONS[:turns]:
        if not reuse:
            backend.llm.reset()
        for ev in chat.send(q):
            if isinstance(ev, Usage):
                ttfts.append(ev.ttft_s)
        # Random weights write only "reasoning"; give the turn the answer a learner would
        # keep, then do what the app does after every reply: read it into the cache.
        chat.messages[-1].content = ANSWER
        if reuse:
            chat.prefill()
    return ttfts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer tokens and repetitions (< 5 min on 2 cores)")
    ap.add_argument("--workdir", type=Path, help="where to build the model (default: a temp folder)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-inference-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n_tokens, reps, chat_tokens = (48, 3, 12) if args.quick else (128, 5, 24)

    t0 = time.perf_counter()
    path = build_model(work)
    print(f"model: synthetic Qwen3 {params(SPEC) / 1e9:.2f} B parameters, q8_0, "
          f"{path.stat().st_size / 1e6:.0f} MB (built in {time.perf_counter() - t0:.0f}s)")
    print(f"machine: {os.cpu_count()} cores, {args.threads} threads")
    backend = LocalBackend.load(path, LocalSettings(n_ctx=4096, n_threads=args.threads))
    sampling = replace(BUILTIN_PRESETS[MODEL_CARD], seed=1234)  # temperature 0.7, top_p 0.8, top_k 20, budgets on
    messages = [{"role": "system", "content": "You are a clinical tutor. Case: " + VIGNETTE},
                {"role": "user", "content": QUESTIONS[0]}]
    prompt_tokens = backend.tokenize_prompt(backend.render(messages))

    # A second backend on the same GGUF whose context ends n tokens after the prompt: with
    # reasoning's 4,096-token budget on, the context's end is what stops the reply.
    short = LocalBackend.load(path, LocalSettings(n_ctx=len(prompt_tokens) + n_tokens, n_threads=args.threads))
    raw, app, closed = [], [], []
    for _ in range(reps):  # interleaved, so drift in machine speed hits both alike
        tps, produced = app_tps(short, messages, sampling)
        app.append(tps)
        raw.append(raw_tps(short.llm, prompt_tokens, produced, sampling))
        closed.append(closing_tps(backend, messages, n_tokens, sampling)[0])
    short.close()
    raw_med, app_med = statistics.median(raw), statistics.median(app)
    overhead = app_med / raw_med
    print(f"generation, {n_tokens} tokens x {reps}: raw llama-cpp-python {raw_med:.1f} tok/s, "
          f"app backend with budgets on {app_med:.1f} tok/s ({produced} tokens each)")
    print(f"  with reasoning cut at {n_tokens // 2} tokens and a {n_tokens // 2}-token answer: "
          f"{statistics.median(closed):.1f} tok/s (closing words read into the cache included)")

    # Each turn's time to first token is the median of three whole 10-turn chats.
    runs = [chat_ttfts(backend, 10, True, chat_tokens) for _ in range(3)]
    with_reuse = [statistics.median(r[i] for r in runs) for i in range(10)]
    without = chat_ttfts(backend, 10, False, chat_tokens)
    ratio = with_reuse[9] / with_reuse[1]
    print("10-turn chat, time to first token per turn (ms):")
    print("  KV reuse:    " + " ".join(f"{t * 1000:.0f}" for t in with_reuse))
    print("  no reuse:    " + " ".join(f"{t * 1000:.0f}" for t in without))
    print(f"  turn 10 / turn 2: {ratio:.2f} with reuse, {without[9] / without[1]:.2f} without")
    backend.close()
    print(f"overhead_ratio={overhead:.3f} followup_ttft_ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
