"""The desktop bundle's size and start-up time, against the same app installed from the wheel.

    python benchmarks/bundle_bench.py [--bundle dist/gazal-desktop] [--runs 3]

Needs a bundle built by installer/build_linux.sh. Prints:
- size on disk of the bundle folder (and its .tar.gz when present), and its biggest parts;
- start-up time: from launching `gazal-desktop --self-test` (offscreen) to its "main window"
  line, i.e. interpreter start, imports, Qt, opening a new case library with the starter
  cases and showing the window. The first launch after the build is reported apart
  ("cold": nothing of the bundle in the page cache unless the build left it there), then
  the median of the next runs; the same for the wheel's `gazal-desktop` in this environment;
- the whole self-test's time (convert a tiny model, load it, stream a reply) for both.
The last line is `bundle_mb=… startup_bundle_s=… startup_wheel_s=…`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def launch(exe: list[str]) -> tuple[float, float]:
    """(seconds to the main window, seconds to the end) of one self-test run."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([*exe, "--self-test"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd="/" if os.name != "nt" else None)
    shown = None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if shown is None and line.startswith("ok   main window"):
            shown = time.perf_counter() - t0
    rc = proc.wait()
    total = time.perf_counter() - t0
    if rc != 0 or shown is None:
        sys.exit(f"{' '.join(exe)} --self-test failed ({rc}):\n{''.join(lines[-20:])}")
    return shown, total


def measure(name: str, exe: list[str], runs: int) -> tuple[float, float, float]:
    cold_shown, cold_total = launch(exe)
    warm = [launch(exe) for _ in range(runs)]
    shown = statistics.median(w[0] for w in warm)
    total = statistics.median(w[1] for w in warm)
    print(f"{name:7s} first launch: window after {cold_shown:.2f} s (self-test {cold_total:.1f} s); "
          f"next {runs}: window after {shown:.2f} s median (self-test {total:.1f} s)", flush=True)
    return cold_shown, shown, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / "gazal-desktop")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    exe = args.bundle / ("gazal-desktop.exe" if os.name == "nt" else "gazal-desktop")
    if not exe.exists():
        print(f"No bundle at {args.bundle}: build it with installer/build_linux.sh", file=sys.stderr)
        return 2
    size = du(args.bundle)
    parts = {}
    internal = args.bundle / "_internal"
    for child in (internal if internal.is_dir() else args.bundle).iterdir():
        parts[child.name] = du(child) if child.is_dir() else child.stat().st_size
    top = sorted(parts.items(), key=lambda kv: -kv[1])[:6]
    tar = args.bundle.parent / "gazal-desktop-linux-x86_64.tar.gz"
    print(f"bundle: {size / 1e6:.0f} MB in {sum(1 for _ in args.bundle.rglob('*'))} files"
          + (f"; {tar.name} {tar.stat().st_size / 1e6:.0f} MB" if tar.exists() else ""))
    print("  biggest: " + ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in top))
    print(f"machine: {os.cpu_count()} cores", flush=True)
    b_cold, b_warm, _ = measure("bundle", [str(exe)], args.runs)
    wheel_exe = shutil.which("gazal-desktop", path=str(Path(sys.executable).parent))
    w_warm = float("nan")
    if wheel_exe:
        _, w_warm, _ = measure("wheel", [wheel_exe], args.runs)
    print(f"bundle_mb={size / 1e6:.0f} startup_bundle_cold_s={b_cold:.2f} startup_bundle_s={b_warm:.2f} "
          f"startup_wheel_s={w_warm:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
