"""Tiny Qwen3 checkpoints for the converter tests, built once per session."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from gazal_convert.synthetic import SyntheticSpec, build_checkpoint

# 2 layers, hidden 256, 4 heads of 128 (not 256/4 = 64), 2 KV heads, vocab 512 in the config
# while the tokenizer has about 410 tokens: the rest are padding rows.
BASE = SyntheticSpec()


def spec(**changes) -> SyntheticSpec:
    return replace(BASE, **changes)


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run gazal-convert as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "gazal_convert.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


__all__ = ["BASE", "spec", "build_checkpoint", "run_cli", "listing"]
