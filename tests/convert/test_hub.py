"""The Hugging Face repo path, against a pre-filled local cache (no network in tests)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import gguf

from .models import listing, run_cli, spec

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _prefill_cache(hf_home: Path, repo_id: str, checkpoint: Path) -> Path:
    """Lay files out the way huggingface-hub stores a download: blobs, snapshot, ref."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / COMMIT
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for i, f in enumerate(sorted(checkpoint.iterdir())):
        blob = repo / "blobs" / f"{i:040x}"
        shutil.copyfile(f, blob)
        (snap / f.name).symlink_to(os.path.relpath(blob, snap))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return snap


def test_repo_id_converts_offline_from_the_cache(models, tmp_path, outdir):
    hf_home = tmp_path / "hf"
    _prefill_cache(hf_home, "TachyHealth/Gazal-R1-32B-GRPO-preview", models.checkpoint(spec()))
    env = dict(os.environ, HF_HOME=str(hf_home), HF_HUB_OFFLINE="1")
    # The default SOURCE is the Gazal repo: no argument needed.
    res = run_cli("--quant", "q8_0", "--outdir", str(outdir), "--progress", "none", env=env)
    assert res.returncode == 0, res.stderr
    out = outdir / "Gazal-R1-32B-GRPO-preview-Q8_0.gguf"
    assert listing(outdir) == {out.name}
    r = gguf.GGUFReader(out)
    assert r.fields["general.name"].contents() == "Gazal-R1-32B-GRPO-preview"
    assert (
        r.fields["general.source.repo_url"].contents()
        == "https://huggingface.co/TachyHealth/Gazal-R1-32B-GRPO-preview"
    )


def test_offline_without_the_repo_in_cache_says_so(tmp_path, outdir):
    env = dict(os.environ, HF_HOME=str(tmp_path / "empty-hf"), HF_HUB_OFFLINE="1")
    res = run_cli("someorg/not-downloaded", "--outdir", str(outdir), "--progress", "none", env=env)
    assert res.returncode == 2
    assert "not in the local Hugging Face cache" in res.stderr and "HF_HUB_OFFLINE" in res.stderr
    assert listing(outdir) == set()


def test_list_quants_gives_sizes_for_the_source(models, tmp_path):
    folder = models.checkpoint(spec())
    res = run_cli("--list-quants", str(folder))
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line for line in res.stdout.splitlines()[1:] if line and line.split()[0] in
            ("f32", "bf16", "q8_0", "q4_k_m", "iq4_xs", "q2_k")}
    assert set(rows) == {"f32", "bf16", "q8_0", "q4_k_m", "iq4_xs", "q2_k"}
    assert "(default)" in rows["q4_k_m"] and "KL divergence" in rows["q4_k_m"]
    assert "4.89" in rows["q4_k_m"] and "~" in rows["q4_k_m"]
    # The f16 estimate is the real tensor data size of the f16 file.
    f16 = next(l for l in res.stdout.splitlines() if l.startswith("f16 "))
    assert "~3.5 MiB" in f16
    assert models.gguf(spec(), "f16").stat().st_size / 2**20 >= 3.5


def test_list_quants_for_the_default_model_from_a_cached_config(models, tmp_path):
    """Offline, the Gazal sizes come from its config.json alone: ~20 GB at q4_k_m."""
    import json

    cfg = {
        "architectures": ["Qwen3ForCausalLM"], "hidden_size": 5120, "intermediate_size": 25600,
        "num_hidden_layers": 64, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 128,
        "vocab_size": 151936, "max_position_embeddings": 40960, "rope_theta": 1000000,
        "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    }
    src = tmp_path / "cfg-only"
    src.mkdir()
    (src / "config.json").write_text(json.dumps(cfg))
    hf_home = tmp_path / "hf"
    _prefill_cache(hf_home, "TachyHealth/Gazal-R1-32B-GRPO-preview", src)
    env = dict(os.environ, HF_HOME=str(hf_home), HF_HUB_OFFLINE="1")
    res = run_cli("--list-quants", env=env)
    assert res.returncode == 0, res.stderr
    q4 = next(l for l in res.stdout.splitlines() if l.startswith("q4_k_m"))
    size_gib = float(q4.split("~")[1].split()[0])
    assert 17.5 < size_gib < 19.5  # ~19-20 GB (decimal) for 32.8 B parameters
    assert "32.76 B parameters" in res.stdout


class _Recorder:
    def __init__(self):
        self.started, self.bytes, self.items, self.finished = None, 0, 0, False

    def start(self, stage, total_bytes, total_items):
        self.started = (stage, total_bytes, total_items)

    def advance(self, nbytes, items=0, label=""):
        self.bytes += nbytes
        self.items += items

    def finish(self):
        self.finished = True


def test_download_progress_follows_the_cache_as_it_fills(tmp_path):
    """The download bar counts bytes landing in the HF cache and files completed."""
    from gazal_convert.fetch import _CacheMonitor

    blobs = tmp_path / "hub" / "models--org--m" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / "old").write_bytes(b"x" * 100)  # already cached before this download
    rec = _Recorder()
    mon = _CacheMonitor(tmp_path / "hub", "org/m", total=3000, n_files=2, progress=rec)
    mon.start()
    (blobs / "a.incomplete").write_bytes(b"x" * 1000)
    mon._tick()
    assert (rec.bytes, rec.items) == (1000, 0)
    (blobs / "a.incomplete").rename(blobs / "a")
    (blobs / "b.incomplete").write_bytes(b"x" * 2000)
    mon._tick()
    (blobs / "b.incomplete").rename(blobs / "b")
    mon.stop()
    assert rec.started == ("Downloading", 3000, 2)
    assert (rec.bytes, rec.items) == (3000, 2) and rec.finished
