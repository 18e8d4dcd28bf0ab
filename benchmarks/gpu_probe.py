"""Which GGUFs crash llama.cpp's model load on a GPU build, and where.

    python benchmarks/gpu_probe.py [--workdir DIR] [--debugger cuda-gdb]

For the record of the CUDA segfault seen loading the tests' tiny models (issue: "Ship it").
Builds small synthetic Qwen3 checkpoints that differ from the tests' tiny model in one
property each, converts them (q8_0), and loads each in a fresh process with and without GPU
layers. Prints one row per variant with the exit status (-11 is a segfault) and the last
lines llama.cpp logged; for the first variant that crashes, a native backtrace from the
debugger when one is on the PATH. Runs on any build: on a CPU build every row should load.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gazal_convert.cli import main as convert_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint

TINY = SyntheticSpec(n_layers=2, hidden=256, n_head=4, n_head_kv=2, head_dim=64, ffn=512, vocab_size=512)
VARIANTS = {
    "tests' tiny": TINY,
    "head_dim 128": replace(TINY, head_dim=128),
    "trained ctx 40960": replace(TINY, max_positions=40960),
    "vocab 151936": replace(TINY, vocab_size=151936),
    "4 layers": replace(TINY, n_layers=4),
    "tied embeddings": replace(TINY, tied=True),
    "hidden 1024": replace(TINY, hidden=1024, n_head=8, n_head_kv=4, head_dim=128, ffn=2048),
    "32B widths, 1 layer": replace(TINY, n_layers=1, hidden=5120, n_head=64, n_head_kv=8, head_dim=128, ffn=512,
                                   max_positions=40960),
}
LOAD = r"""
import sys, faulthandler
faulthandler.enable()
from llama_cpp import Llama
path, ngl, mmap = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
llm = Llama(model_path=path, n_gpu_layers=ngl, n_ctx=256, use_mmap=mmap, verbose=True)
print("LOADED", flush=True)
toks = llm.tokenize(b"Step 1: fever", add_bos=False)
llm.eval(toks)
print("EVAL OK", len(toks), flush=True)
"""


# The same tiny GGUF loaded four ways, each in a fresh process: which loading path crashes.
LOADERS = {
    "Llama(verbose=False)": "from llama_cpp import Llama; Llama(model_path=path, n_ctx=256, verbose=False)",
    "Llama(verbose=True)": "from llama_cpp import Llama; Llama(model_path=path, n_ctx=256, verbose=True)",
    "load_llama (the app's)": "from gazal_convert.llamalog import load_llama; load_llama(path, n_ctx=256)",
    "LocalBackend.load": ("from gazal_desktop.core.backends.local import LocalBackend, LocalSettings; "
                          "LocalBackend.load(path, LocalSettings(n_ctx=256))"),
}


def try_loader(code: str, path: Path) -> int:
    full = f"import faulthandler, sys; faulthandler.enable(); path = sys.argv[1]\n{code}\nprint('LOADED')"
    res = subprocess.run([sys.executable, "-c", full, str(path)], capture_output=True, text=True, timeout=120)
    return res.returncode


def build(work: Path, name: str, spec: SyntheticSpec, quant: str = "q8_0") -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in name)
    out = work / f"{slug}-{quant}.gguf"
    if not out.exists():
        ckpt = build_checkpoint(work / slug, spec)
        rc = convert_main([str(ckpt), "--quant", quant, "--outfile", str(out), "--progress", "none"])
        if rc:
            raise SystemExit(f"conversion of {name} failed ({rc})")
    return out


def load(path: Path, ngl: int, mmap: bool = True, timeout: float = 120) -> tuple[int, str, str]:
    try:
        res = subprocess.run([sys.executable, "-c", LOAD, str(path), str(ngl), "1" if mmap else "0"],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "timed out", "timed out"
    lines = [l for l in (res.stdout + res.stderr).splitlines() if l.strip()]
    return res.returncode, "\n".join(lines[-8:]), "\n".join(lines[-80:])


def backtrace(debugger: str, path: Path, ngl: int, code: str | None = None) -> str:
    script = Path(tempfile.mkdtemp()) / "load.py"
    script.write_text(LOAD if code is None else f"import sys; path = sys.argv[1]\n{code}\nprint('LOADED')\n")
    cmd = [debugger, "-batch", "-ex", "set pagination off", "-ex", "run", "-ex", "bt 40", "--args",
           sys.executable, str(script), str(path), str(ngl), "1"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return "debugger timed out"
    out = res.stdout + res.stderr
    i = out.find("received signal")
    return out[i - 200:] if i >= 0 else out[-4000:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--debugger", default="cuda-gdb", help="gdb-compatible debugger for the backtrace")
    ap.add_argument("--loaders-only", action="store_true", help="only compare the loading paths")
    ap.add_argument("--backtrace-of", choices=list(LOADERS), help="run this loader under the debugger")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-gpu-probe-"))
    work.mkdir(parents=True, exist_ok=True)
    import llama_cpp

    print(f"llama-cpp-python {llama_cpp.__version__}, GPU offload: {llama_cpp.llama_supports_gpu_offload()}")
    tiny = build(work, "tests' tiny", TINY)
    print("loaders (tests' tiny GGUF, CPU layers, fresh process each):")
    for name, code in LOADERS.items():
        rc = try_loader(code, tiny)
        print(f"  {name:24s} {'ok' if rc == 0 else ('SEGFAULT' if rc in (-11, 139) else f'exit {rc}')}", flush=True)
    if args.backtrace_of and shutil.which(args.debugger):
        print(f"== {args.debugger} backtrace: {args.backtrace_of} ==", flush=True)
        print(backtrace(args.debugger, tiny, 0, LOADERS[args.backtrace_of]), flush=True)
    if args.loaders_only:
        return 0
    crashed: tuple[Path, int] | None = None
    rows = []
    for name, spec in VARIANTS.items():
        path = build(work, name, spec)
        loads = ((0, True), (-1, True), (-1, False)) if name == "tests' tiny" else ((0, True), (-1, True))
        for ngl, mmap in loads:
            t0 = time.perf_counter()
            rc, tail, full = load(path, ngl, mmap)
            status = "ok" if rc == 0 else ("SEGFAULT" if rc in (-11, 139) else f"exit {rc}")
            rows.append((name, ngl, mmap, status, time.perf_counter() - t0))
            print(f"{name:22s} gpu_layers={ngl:3d} mmap={int(mmap)}  {status:8s} ({rows[-1][4]:.1f} s)", flush=True)
            if rc != 0:
                lines = tail if crashed else full
                print("    " + lines.replace("\n", "\n    "), flush=True)
                crashed = crashed or (path, ngl)
    if crashed and shutil.which(args.debugger):
        print(f"\n== {args.debugger} backtrace: {crashed[0].name}, gpu_layers={crashed[1]} ==", flush=True)
        print(backtrace(args.debugger, *crashed), flush=True)
    bad = sum(1 for r in rows if r[3] != "ok")
    print(f"{bad} of {len(rows)} loads failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
