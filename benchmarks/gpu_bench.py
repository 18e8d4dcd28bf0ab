"""The app's llama.cpp backend on an NVIDIA GPU, against raw llama-cpp-python in the same run.

    python benchmarks/gpu_bench.py [--layers 4] [--workdir DIR] [--tokens 256]

Builds a Qwen3-32B-shaped GGUF (every tensor at Qwen3-32B's size, `--layers` of its 64
layers, q4_k_m through gazal-convert), then, with every layer on the GPU, for flash
attention off and on:

- fit estimate vs VRAM in use: what `core.hardware.recommend` said the GPU needs, and what
  nvidia-smi shows this process using once the model is loaded and has decoded;
- generation tokens/s: a bare llama-cpp-python loop vs the app's LocalBackend.stream
  (events, reasoning parser, stop checks), interleaved, median of 3 -> ratio app / raw;
- prompt tokens/s for a ~3,000-token case discussion (fresh cache);
- Stop latency: from cancel() to the stream's end, mid-prompt (a ~7,000-token prompt,
  cancelled 30 ms in) and mid-answer (cancelled after 32 tokens), median of 3.

Needs a GPU build of llama-cpp-python (see the README); on a CPU build it says so and exits 1.
The last line is a summary for the README.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from gazal_convert.cli import main as convert_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint
from gazal_desktop.core import hardware
from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import AnswerDelta, Finished, PromptStarted, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling
from inference_bench import raw_tps  # the same bare llama-cpp-python loop as the CPU benchmark

QWEN3_32B = dict(hidden=5120, n_head=64, n_head_kv=8, head_dim=128, ffn=25600, vocab_size=151936,
                 max_positions=40960)
SAMPLING = Sampling(temperature=0.7, top_p=0.8, top_k=20, seed=1234)
CASE = ("A 58-year-old man presents with 45 minutes of crushing substernal chest pain radiating to the left "
        "arm. He is diaphoretic; blood pressure 150/90 mm Hg, heart rate 104/min. ECG shows ST-segment "
        "elevation in leads II, III and aVF. ")


def build_model(work: Path, layers: int) -> Path:
    out = work / f"qwen3-32b-shape-{layers}L-q4_k_m.gguf"
    if not out.exists():
        ckpt = build_checkpoint(work / "ckpt", SyntheticSpec(n_layers=layers, **QWEN3_32B), fast_fill=True)
        rc = convert_main([str(ckpt), "--quant", "q4_k_m", "--outfile", str(out), "--progress", "none"])
        if rc:
            sys.exit(rc)
    return out


def vram_used_by_me() -> int | None:
    """MiB of GPU memory this process holds (nvidia-smi's per-process accounting)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        pid, used = (x.strip() for x in line.split(","))
        if pid == str(os.getpid()):
            return int(used)
    return None


def app_stream(backend: LocalBackend, messages, n: int, cancel: CancelToken | None = None) -> Usage | None:
    backend.llm.reset()
    usage = None
    for ev in backend.stream(messages, Sampling(**{**SAMPLING.__dict__, "max_tokens": n}), cancel):
        if isinstance(ev, Usage):
            usage = ev
    return usage


def stop_latency(backend: LocalBackend, messages, when: str) -> float:
    """Seconds from cancel() to the end of the stream."""
    backend.llm.reset()
    cancel = CancelToken()
    t_cancel = [0.0]

    def fire():
        t_cancel[0] = time.perf_counter()
        cancel.cancel()

    n = 0
    timer = None
    for ev in backend.stream(messages, Sampling(**{**SAMPLING.__dict__, "max_tokens": 4096}), cancel):
        if isinstance(ev, PromptStarted) and when == "prompt":
            timer = threading.Timer(0.03, fire)
            timer.start()
        if isinstance(ev, (ReasoningDelta, AnswerDelta)) and when == "answer":
            n += 1
            if n == 32:
                fire()
        if isinstance(ev, Finished):
            break
    end = time.perf_counter()
    if timer:
        timer.join()
    return end - t_cancel[0] if t_cancel[0] else float("nan")


def run(path: Path, flash: bool, n_tokens: int, reps: int) -> dict:
    shape = hardware.ModelShape.from_gguf(path)
    hw = hardware.detect()
    fit = hardware.recommend(shape, hw, n_ctx=8192, flash_attn=flash)
    before = vram_used_by_me() or 0
    t0 = time.perf_counter()
    backend = LocalBackend.load(path, LocalSettings(n_gpu_layers=-1, n_ctx=8192, flash_attn=flash))
    load_s = time.perf_counter() - t0
    msgs = [{"role": "system", "content": "You are a clinical tutor. Case: " + CASE},
            {"role": "user", "content": "What is the diagnosis, and what should the team do next?"}]
    tokens = backend.tokenize_prompt(backend.render(msgs))
    app_stream(backend, msgs, 8)  # warm-up: kernels, graphs
    used = (vram_used_by_me() or 0) - before
    raw, app = [], []
    for _ in range(reps):
        raw.append(raw_tps(backend.llm, tokens, n_tokens, SAMPLING))
        u = app_stream(backend, msgs, n_tokens)
        app.append(u.gen_tps or 0.0)
    long_msgs = [{"role": "system", "content": "You are a clinical tutor. Case: " + CASE * 25},
                 {"role": "user", "content": "Summarise."}]
    prompt = [app_stream(backend, long_msgs, 1) for _ in range(reps)]
    longer = [{"role": "system", "content": "You are a clinical tutor. Case: " + CASE * 60},
              {"role": "user", "content": "Summarise."}]
    stop_prompt = [stop_latency(backend, longer, "prompt") for _ in range(reps)]
    stop_answer = [stop_latency(backend, msgs, "answer") for _ in range(reps)]
    backend.close()
    return dict(
        flash=flash, load_s=load_s, fit=fit, fit_gpu_mb=fit.gpu_bytes / hardware.MiB, used_mb=used,
        raw=statistics.median(raw), app=statistics.median(app),
        prompt_tokens=prompt[0].prompt_tokens, prompt_tps=statistics.median(u.prompt_tps or 0 for u in prompt),
        stop_prompt_ms=1000 * statistics.median(stop_prompt), stop_answer_ms=1000 * statistics.median(stop_answer),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4, help="how many of Qwen3-32B's 64 layers (default 4)")
    ap.add_argument("--tokens", type=int, default=256, help="tokens generated per run (default 256)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--build-only", action="store_true", help="only build the GGUF in --workdir")
    args = ap.parse_args()
    faulthandler.enable()
    if args.build_only:
        path = build_model(args.workdir, args.layers)
        print(f"built {path} ({path.stat().st_size / 1e9:.2f} GB)")
        return 0
    build = hardware.llama_build()
    print(build.describe())
    if not build.gpu_offload:
        print("This llama-cpp-python has no GPU support: nothing to measure.")
        return 1
    hw = hardware.detect()
    print(f"GPU: {hw.gpu_name}, {hw.vram_total / hardware.GiB if hw.vram_total else 0:.0f} GiB")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-gpu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    path = build_model(work, args.layers)
    print(f"model: Qwen3-32B shapes, {args.layers} layers, q4_k_m, {path.stat().st_size / 1e9:.2f} GB "
          f"(built in {time.perf_counter() - t0:.0f} s)", flush=True)
    results = []
    for flash in (False, True):
        r = run(path, flash, args.tokens, args.reps)
        results.append(r)
        print(f"flash_attn={'on ' if flash else 'off'}: load {r['load_s']:.1f} s | fit estimate {r['fit_gpu_mb']:,.0f} MiB "
              f"({r['fit'].verdict}), in use {r['used_mb']:,} MiB | generation raw {r['raw']:.1f} tok/s, "
              f"app {r['app']:.1f} tok/s ({r['app'] / r['raw']:.3f}x) | prompt {r['prompt_tokens']} tokens at "
              f"{r['prompt_tps']:,.0f} tok/s | Stop mid-prompt {r['stop_prompt_ms']:.0f} ms, "
              f"mid-answer {r['stop_answer_ms']:.0f} ms", flush=True)
    off, on = results
    print(f"gpu_summary card={hw.gpu_name!r} ratio_off={off['app'] / off['raw']:.3f} ratio_on={on['app'] / on['raw']:.3f} "
          f"tps_off={off['app']:.0f} tps_on={on['app']:.0f} prompt_tps_off={off['prompt_tps']:.0f} "
          f"prompt_tps_on={on['prompt_tps']:.0f} fit_mb={off['fit_gpu_mb']:.0f} used_mb={off['used_mb']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
