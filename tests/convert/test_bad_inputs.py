"""Every bad input gets a clear message and leaves nothing behind."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gazal_convert import ConvertError, pipeline
from gazal_convert.metadata import SourceInfo
from gazal_convert.progress import Progress
from gazal_convert.quants import get_quant
from gazal_convert.cli import main as cli_main
from gazal_convert.synthetic import build_checkpoint

from .models import listing, run_cli, spec


def _copy(models, tmp_path: Path, s=None) -> Path:
    dst = tmp_path / "ckpt"
    shutil.copytree(models.checkpoint(s or spec()), dst)
    return dst


def _convert(capsys, *args: str) -> tuple[int, str]:
    rc = cli_main([*args, "--progress", "none"])
    return rc, capsys.readouterr().err


def test_unsupported_architecture_names_the_supported_ones(models, tmp_path, outdir, capsys):
    ck = _copy(models, tmp_path)
    cfg = json.loads((ck / "config.json").read_text())
    cfg["architectures"] = ["LlamaForCausalLM"]
    (ck / "config.json").write_text(json.dumps(cfg))
    rc, err = _convert(capsys, str(ck), "--outdir", str(outdir))
    assert rc == 2
    assert "Unsupported architecture 'LlamaForCausalLM'" in err and "Qwen3ForCausalLM" in err
    assert listing(outdir) == set()


@pytest.mark.parametrize(
    "breakage,expected",
    [
        ("no-config", "Missing config.json"),
        ("bad-json", "config.json (model config) is not valid JSON"),
        ("no-tokenizer", "Missing tokenizer.json"),
        ("truncated", "is truncated"),
        ("missing-shard", "missing from"),
        ("shape", "Tensor shapes do not match config.json"),
        ("untied-without-lm-head", "lm_head is needed"),
        ("vocab-too-small", "vocab_size is"),
        ("no-weights", "No .safetensors weights"),
        ("int8-weights", "reads BF16, F16 and F32"),
        ("wrong-pretokenizer", "not Qwen2's"),
    ],
)
def test_malformed_checkpoints_get_a_clear_error(models, tmp_path, outdir, capsys, breakage, expected):
    sharded = breakage == "missing-shard"
    ck = _copy(models, tmp_path, spec(shards=2) if sharded else spec())
    cfg = json.loads((ck / "config.json").read_text())
    st = ck / "model.safetensors"
    if breakage == "no-config":
        (ck / "config.json").unlink()
    elif breakage == "bad-json":
        (ck / "config.json").write_text("{not json")
    elif breakage == "no-tokenizer":
        (ck / "tokenizer.json").unlink()
    elif breakage == "truncated":
        with open(st, "r+b") as fh:
            fh.truncate(st.stat().st_size - 1000)
    elif breakage == "missing-shard":
        (ck / "model-00002-of-00002.safetensors").unlink()
    elif breakage == "shape":
        cfg["intermediate_size"] = 768
    elif breakage == "untied-without-lm-head":
        build_checkpoint(ck, spec(tied=True))  # weights without lm_head ...
        cfg = json.loads((ck / "config.json").read_text())
        cfg["tie_word_embeddings"] = False  # ... but a config that needs one
    elif breakage == "vocab-too-small":
        tok = json.loads((ck / "tokenizer.json").read_text())
        tok["added_tokens"].append({"id": 600, "content": "<tool_call>", "special": True})
        (ck / "tokenizer.json").write_text(json.dumps(tok))
    elif breakage == "no-weights":
        st.rename(ck / "pytorch_model.bin")
    elif breakage == "int8-weights":
        raw = st.read_bytes().replace(b'"dtype":"BF16"', b'"dtype":"I8"  ', 1)
        st.write_bytes(raw)
    elif breakage == "wrong-pretokenizer":
        tok = json.loads((ck / "tokenizer.json").read_text())
        tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = r"\s+|\w+"
        (ck / "tokenizer.json").write_text(json.dumps(tok))
    if breakage in ("shape", "untied-without-lm-head"):
        (ck / "config.json").write_text(json.dumps(cfg))
    before = listing(ck)
    rc, err = _convert(capsys, str(ck), "--outdir", str(outdir), "--quant", "q4_k_m")
    assert rc == 2, err
    assert expected in err
    assert "Traceback" not in err
    assert listing(outdir) == set()
    assert listing(ck) == before


def test_not_enough_disk_says_how_much_is_needed(models, outdir, capsys, monkeypatch):
    real = shutil.disk_usage

    def tiny(path):
        return real(path)._replace(free=1024 * 1024)

    monkeypatch.setattr(pipeline.shutil, "disk_usage", tiny)
    rc, err = _convert(capsys, str(models.checkpoint(spec())), "--outdir", str(outdir), "--quant", "q4_k_m")
    assert rc == 2
    assert "Not enough free disk" in err and "need" in err and "intermediate" not in err  # streamed: output only
    rc, err = _convert(capsys, str(models.checkpoint(spec())), "--outdir", str(outdir), "--quant", "q4_k_m",
                       "--two-step")
    assert rc == 2
    assert "Not enough free disk" in err and "intermediate BF16" in err  # made by llama.cpp's quantizer
    assert listing(outdir) == set()


def test_existing_output_is_refused_without_force(models, outdir, capsys):
    ck = str(models.checkpoint(spec()))
    target = outdir / "model.gguf"
    target.write_bytes(b"precious")
    rc, err = _convert(capsys, ck, "--outfile", str(target), "--quant", "q8_0")
    assert rc == 2 and "already exists" in err and "--force" in err
    assert target.read_bytes() == b"precious"
    rc, err = _convert(capsys, ck, "--outfile", str(target), "--quant", "q8_0", "--force")
    assert rc == 0
    assert target.read_bytes()[:4] == b"GGUF"
    assert listing(outdir) == {"model.gguf"}


def test_unknown_quant_and_bad_source(models, outdir, capsys):
    rc, err = _convert(capsys, str(models.checkpoint(spec())), "--quant", "q4_k_z", "--outdir", str(outdir))
    assert rc == 2 and "Unknown quantization type 'q4_k_z'" in err and "q4_k_m" in err
    rc, err = _convert(capsys, "./no/such/folder", "--outdir", str(outdir))
    assert rc == 2 and "No such folder" in err


def test_disk_filling_up_mid_write_leaves_nothing(models, outdir, capsys, monkeypatch):
    """The OS reports ENOSPC after some bytes (as a full disk does): clear error, no files."""
    from gazal_convert import writer

    real_write = writer._write_all
    written = {"n": 0}

    def filling_disk(fd, data):
        written["n"] += len(memoryview(data))
        if written["n"] > 1_000_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    monkeypatch.setattr(writer, "_write_all", filling_disk)
    rc, err = _convert(capsys, str(models.checkpoint(spec())), "--outdir", str(outdir), "--quant", "q8_0")
    assert rc == 2 and "filled up" in err and "free some space" in err
    assert listing(outdir) == set()


def test_source_changing_during_conversion_is_reported(models, tmp_path, outdir, capsys, monkeypatch):
    ck = _copy(models, tmp_path)
    plan = pipeline.prepare(SourceInfo(ck), get_quant("f32"), outdir=outdir)
    with open(ck / "model.safetensors", "r+b") as fh:  # another program truncates it now
        fh.truncate(1000)
    with pytest.raises(ConvertError, match="ended early"):
        pipeline.execute(plan, 1, Progress())
    assert listing(outdir) == set()


@pytest.fixture(scope="module")
def big_checkpoint(tmp_path_factory) -> Path:
    """Big enough (about 170 MB) that conversion and quantization take a moment."""
    s = spec(n_layers=4, hidden=1024, n_head=8, n_head_kv=4, head_dim=128, ffn=3072, vocab_size=8192)
    return build_checkpoint(tmp_path_factory.mktemp("big") / "ckpt", s, fast_fill=True)


@pytest.mark.parametrize("stage,quant", [("Converting", "q8_0"), ("Converting", "q4_k_m"),
                                         ("Quantizing Q4_K_M", "q4_k_m --two-step")])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_partial_file(big_checkpoint, outdir, stage, quant, sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "gazal_convert.cli", str(big_checkpoint), "--quant", *quant.split(),
         "--outdir", str(outdir), "--progress", "json", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("stage") == stage and not event.get("done"):
            break
    time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err
    assert listing(outdir) == set()


def test_stale_temporaries_from_a_killed_run_are_cleaned(models, outdir, capsys):
    stale = outdir / ".model.gguf.999999999.partial"
    stale.write_bytes(b"half a model")
    rc, _ = _convert(capsys, str(models.checkpoint(spec())), "--outfile", str(outdir / "model.gguf"), "--quant", "f16")
    assert rc == 0
    assert listing(outdir) == {"model.gguf"}


def test_inspect_rejects_truncated_and_malformed_files(models, outdir):
    good = models.gguf(spec(), "q8_0")
    truncated = outdir / "truncated.gguf"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    res = run_cli("inspect", str(truncated))
    assert res.returncode == 2 and "truncated" in res.stderr and "Traceback" not in res.stderr
    header_only = outdir / "header.gguf"
    header_only.write_bytes(good.read_bytes()[:100])
    res = run_cli("inspect", str(header_only))
    assert res.returncode == 2 and ("truncated or malformed" in res.stderr or "truncated" in res.stderr)
    garbage = outdir / "garbage.gguf"
    garbage.write_bytes(os.urandom(4096))
    res = run_cli("inspect", str(garbage))
    assert res.returncode == 2 and "not a GGUF file" in res.stderr
    res = run_cli("inspect", str(outdir / "missing.gguf"))
    assert res.returncode == 2 and "No such file" in res.stderr


def test_inspect_reports_a_good_file_and_generates(models):
    path = models.gguf(spec(), "q4_k_m")
    res = run_cli("inspect", str(path), "--tokens", "4")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Architecture  qwen3" in out and "key_length" in out and "Q4_K" in out and "Q6_K" in out
    assert "pre qwen2" in out and "512 tokens" in out and "<|im_start|>" in out
    assert "generated 4 tokens" in res.stderr


def test_negative_tensor_offsets_are_refused_not_written(models, tmp_path, outdir, capsys):
    ck = _copy(models, tmp_path)
    st = ck / "model.safetensors"
    raw = st.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    name = next(k for k in header if k != "__metadata__")
    begin, end = header[name]["data_offsets"]
    header[name]["data_offsets"] = [-(end - begin), 0]  # right length, pointing into the header
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (n - len(text))
    assert len(text) == n
    st.write_bytes(raw[:8] + text + raw[8 + n:])
    rc, err = _convert(capsys, str(ck), "--outdir", str(outdir), "--quant", "q8_0")
    assert rc == 2 and "impossible data offsets" in err and name in err
    assert "Traceback" not in err and listing(outdir) == set()


def test_a_read_only_output_folder_is_said_in_words(models, tmp_path, capsys):
    from tests.smallfs import mounted

    with mounted(tmp_path / "ro", size_kib=200 * 1024, read_only=True) as ro:
        rc, err = _convert(capsys, str(models.checkpoint(spec())), "--outdir", str(ro), "--quant", "q8_0")
    assert rc == 2, err
    assert "read-only" in err and "--outdir" in err and "Traceback" not in err


def test_no_network_says_check_the_connection_or_use_a_folder(tmp_path, outdir):
    # The Hub's address is a port on this machine that nobody listens on: a refused connection.
    env = dict(os.environ, HF_HOME=str(tmp_path / "empty-hf"), HF_ENDPOINT="http://127.0.0.1:9")
    env.pop("HF_HUB_OFFLINE", None)
    res = run_cli("--outdir", str(outdir), "--progress", "none", env=env)
    assert res.returncode == 2, res.stderr
    assert "Could not reach the Hugging Face Hub" in res.stderr and "connection" in res.stderr
    assert "checkpoint folder" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2
    assert listing(outdir) == set()
