"""Shared fixtures: a private data folder per test, offscreen Qt, tiny Qwen3 models."""

from __future__ import annotations

import os

# Before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest

from gazal_convert.cli import main as cli_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the real home, HF cache or app data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GAZAL_DATA_DIR", str(home / "gazal-data"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


class CheckpointCache:
    """Builds each distinct synthetic checkpoint once and converts it on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[SyntheticSpec, Path] = {}
        self._converted: dict[tuple[SyntheticSpec, str], Path] = {}

    def checkpoint(self, spec: SyntheticSpec) -> Path:
        if spec not in self._built:
            folder = self.root / f"ckpt-{len(self._built)}"
            self._built[spec] = build_checkpoint(folder, spec)
        return self._built[spec]

    def gguf(self, spec: SyntheticSpec, quant: str) -> Path:
        key = (spec, quant)
        if key not in self._converted:
            folder = self.checkpoint(spec)
            out = folder.parent / f"{folder.name}-{quant}.gguf"
            rc = cli_main([str(folder), "--quant", quant, "--outfile", str(out), "--progress", "none", "--threads", "2"])
            assert rc == 0
            self._converted[key] = out
        return self._converted[key]


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> CheckpointCache:
    return CheckpointCache(tmp_path_factory.mktemp("models"))


# A tiny random Qwen3: fast enough for many generations on 2 cores.
TINY = SyntheticSpec(n_layers=2, hidden=256, n_head=4, n_head_kv=2, head_dim=64, ffn=512, vocab_size=512)


@pytest.fixture(scope="session")
def tiny_gguf(models) -> Path:
    return models.gguf(TINY, "q8_0")
