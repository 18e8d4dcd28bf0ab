from __future__ import annotations

from pathlib import Path

import pytest

from gazal_convert.cli import main as cli_main
from gazal_convert.synthetic import SyntheticSpec, build_checkpoint


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


@pytest.fixture
def outdir(tmp_path) -> Path:
    """An empty folder for outputs (tmp_path also holds the test's private home)."""
    d = tmp_path / "out"
    d.mkdir()
    return d
