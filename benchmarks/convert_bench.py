"""Converter speed and memory on a synthetic checkpoint with Qwen3-32B's real tensor shapes.

    python benchmarks/convert_bench.py [--layers 1] [--workdir DIR] [--keep]

Builds a bf16 checkpoint (1 layer = 4.1 GB: the 1.56 GB embedding and lm_head plus one
full layer), then, in the same run, times:
  * a plain copy of the same bytes (shutil.copyfile + fsync), the baseline;
  * gazal-convert to bf16 (a byte copy), f16 and q8_0: wall time, MB/s of checkpoint
    read, ratio to the plain copy, and the process's peak RSS;
  * gazal-convert to q4_k_m, quantized straight from the checkpoint (ggml_quantize_chunk),
    and the same with --two-step (a bf16 intermediate, then llama.cpp's quantizer): wall
    time, peak RSS and the extra disk each used at its peak, and whether the two outputs'
    tensors are byte-identical.
Each conversion runs in its own process; its peak RSS is read from /proc (VmHWM), its disk
use from the folder's filesystem, polled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from gazal_convert.synthetic import SyntheticSpec, build_checkpoint

QWEN3_32B = dict(hidden=5120, n_head=64, n_head_kv=8, head_dim=128, ffn=25600, vocab_size=151936,
                 max_positions=40960)


def run_convert(src: Path, quant: str, out: Path, *extra: str) -> tuple[float, float, dict[str, float]]:
    """(wall seconds, peak RSS MiB, seconds per stage) of one gazal-convert process; the peak
    extra disk it used is left in run_convert.disk_peak (bytes)."""
    cmd = [sys.executable, "-m", "gazal_convert.cli", str(src), "--quant", quant, "--outfile", str(out),
           "--progress", "json", "--force", "--threads", str(os.cpu_count() or 1), *extra]
    disk = PeakDisk(out.parent)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = PeakRSS(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    rss_mib = peak.stop()
    run_convert.disk_peak = disk.stop()
    if proc.returncode != 0:
        raise SystemExit(f"gazal-convert {quant} failed:\n{stderr}")
    stages = {}
    for line in stdout.splitlines():
        ev = json.loads(line)
        if ev.get("done"):
            stages[ev["stage"]] = ev["elapsed_s"]
    return wall, rss_mib, stages


class PeakRSS:
    """The child's own peak RSS (VmHWM), polled from /proc.

    ru_maxrss of a forked child also counts the parent's memory from before exec, so it
    would report this benchmark's footprint rather than gazal-convert's.
    """

    def __init__(self, pid: int) -> None:
        self.path = f"/proc/{pid}/status"
        self.kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with open(self.path) as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            self.kib = max(self.kib, int(line.split()[1]))
            except (OSError, ValueError):
                return
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.kib / 1024


class PeakDisk:
    """The most the folder's filesystem grew while a conversion ran (intermediate + output)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.base, self.peak = folder, shutil.disk_usage(folder).used, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, shutil.disk_usage(self.folder).used - self.base)
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def same_tensors(a: Path, b: Path) -> bool:
    from gguf import GGUFReader

    ta = {t.name: (int(t.tensor_type), bytes(t.data.tobytes())) for t in GGUFReader(a).tensors}
    tb = {t.name: (int(t.tensor_type), bytes(t.data.tobytes())) for t in GGUFReader(b).tensors}
    return ta == tb


def plain_copy(src: Path, dst: Path) -> float:
    t0 = time.perf_counter()
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=1, help="transformer layers (1 = 4.1 GB)")
    ap.add_argument("--workdir", type=Path, default=None, help="where to build (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic checkpoint")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="gazal-convert-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    spec = SyntheticSpec(n_layers=args.layers, **QWEN3_32B)
    ckpt = work / "qwen3-32b-shapes"
    if not (ckpt / "model.safetensors").exists():
        t0 = time.perf_counter()
        build_checkpoint(ckpt, spec, fast_fill=True)
        print(f"built synthetic checkpoint in {time.perf_counter() - t0:.1f}s")
    src = ckpt / "model.safetensors"
    size = src.stat().st_size
    print(f"checkpoint: {size / 1e9:.2f} GB bf16, {args.layers} layer(s), Qwen3-32B shapes "
          f"(embedding 151936x5120 = 1.56 GB in one tensor)")
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")

    copy_dst = work / "plain-copy.bin"
    plain_copy(src, copy_dst)  # warm the page cache so every contender reads from memory
    copy_dst.unlink()
    t_copy = plain_copy(src, copy_dst)
    copy_dst.unlink()
    print(f"plain copy     {t_copy:7.2f} s  {size / t_copy / 1e6:8.0f} MB/s")

    results = {}
    for quant in ("bf16", "f16", "q8_0"):
        out = work / f"out-{quant}.gguf"
        wall, rss, _ = run_convert(ckpt, quant, out)
        out_size = out.stat().st_size
        out.unlink()
        results[quant] = (wall, rss)
        print(f"{quant:<14} {wall:7.2f} s  {size / wall / 1e6:8.0f} MB/s  "
              f"{t_copy / wall:5.2f}x plain copy  peak RSS {rss:6.0f} MiB  output {out_size / 1e9:.2f} GB")

    out = work / "out-q4_k_m.gguf"
    wall, rss, _ = run_convert(ckpt, "q4_k_m", out)
    disk = run_convert.disk_peak
    out_size = out.stat().st_size
    print(f"q4_k_m direct  {wall:7.2f} s  peak RSS {rss:6.0f} MiB  peak extra disk {disk / 1e9:5.2f} GB  "
          f"output {out_size / 1e9:.2f} GB  (quantized from the checkpoint by ggml)")
    two = work / "out-q4_k_m-two-step.gguf"
    wall2, rss2, stages = run_convert(ckpt, "q4_k_m", two, "--two-step")
    disk2 = run_convert.disk_peak
    t_inter = stages.get("Converting", float("nan"))
    t_quant = stages.get("Quantizing Q4_K_M", float("nan"))
    print(f"q4_k_m 2-step  {wall2:7.2f} s  peak RSS {rss2:6.0f} MiB  peak extra disk {disk2 / 1e9:5.2f} GB  "
          f"(bf16 intermediate {t_inter:.2f} s, llama.cpp quantize {t_quant:.2f} s)")
    identical = same_tensors(out, two)
    print(f"q4_k_m tensors byte-identical between the two paths: {identical}")
    out.unlink()
    two.unlink()
    if not args.keep:
        shutil.rmtree(ckpt)
    worst = max(r for _, r in results.values())
    print(f"bf16_vs_copy={t_copy / results['bf16'][0]:.2f} direct_peak_rss_mib={worst:.0f} "
          f"q4_k_m_direct_s={wall:.2f} q4_k_m_direct_rss_mib={rss:.0f} q4_k_m_direct_disk_gb={disk / 1e9:.2f} "
          f"q4_k_m_two_step_s={wall2:.2f} q4_k_m_two_step_rss_mib={rss2:.0f} q4_k_m_two_step_disk_gb={disk2 / 1e9:.2f} "
          f"identical={identical}")


if __name__ == "__main__":
    main()
