"""What each output type holds: metadata, tensor types, tokenizer, and that it generates."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
from gazal_convert.llamalog import load_llama

from gazal_convert.synthetic import CHAT_TEMPLATE

from .models import listing, run_cli, spec
from testenv import THREADS

T = gguf.GGMLQuantizationType


def _reader(path: Path) -> gguf.GGUFReader:
    return gguf.GGUFReader(path)


def _field(r: gguf.GGUFReader, key: str):
    return r.fields[key].contents()


def _types(r: gguf.GGUFReader) -> dict[str, T]:
    return {t.name: t.tensor_type for t in r.tensors}


def _generate(path: Path) -> str:
    llm = load_llama(str(path), n_ctx=128, n_threads=THREADS, seed=1)
    try:
        out = llm.create_completion("A 58-year-old man presents with", max_tokens=6, temperature=0.0)
    finally:
        llm.close()
    assert out["usage"]["completion_tokens"] > 0
    return out["choices"][0]["text"]


def test_metadata_carries_every_hyperparameter_and_the_tokenizer(models):
    s = spec(yarn_factor=4.0, yarn_original=1024, max_positions=4096)
    r = _reader(models.gguf(s, "bf16"))
    assert _field(r, "general.architecture") == "qwen3"
    expect = {
        "qwen3.block_count": s.n_layers, "qwen3.embedding_length": s.hidden,
        "qwen3.feed_forward_length": s.ffn, "qwen3.attention.head_count": s.n_head,
        "qwen3.attention.head_count_kv": s.n_head_kv, "qwen3.attention.key_length": 128,
        "qwen3.attention.value_length": 128, "qwen3.context_length": 4096,
        "qwen3.rope.scaling.original_context_length": 1024,
    }
    for k, v in expect.items():
        assert _field(r, k) == v, k
    assert _field(r, "qwen3.rope.freq_base") == pytest.approx(1e6)
    assert _field(r, "qwen3.attention.layer_norm_rms_epsilon") == pytest.approx(1e-6)
    assert _field(r, "qwen3.rope.scaling.type") == "yarn"
    assert _field(r, "qwen3.rope.scaling.factor") == pytest.approx(4.0)
    # Tokenizer: gpt2 BPE, qwen2 pre-tokenizer, padded to the config's vocab size.
    assert _field(r, "tokenizer.ggml.model") == "gpt2"
    assert _field(r, "tokenizer.ggml.pre") == "qwen2"
    tokens = _field(r, "tokenizer.ggml.tokens")
    ttypes = _field(r, "tokenizer.ggml.token_type")
    tok = json.loads((models.checkpoint(s) / "tokenizer.json").read_text())
    assert len(tokens) == s.vocab_size
    added = {a["content"]: a for a in tok["added_tokens"]}
    im_end = added["<|im_end|>"]["id"]
    assert tokens[im_end] == "<|im_end|>" and ttypes[im_end] == gguf.TokenType.CONTROL
    assert ttypes[added["<think>"]["id"]] == gguf.TokenType.USER_DEFINED
    n_tok = max(a["id"] for a in tok["added_tokens"]) + 1
    assert tokens[n_tok] == f"[PAD{n_tok}]" and ttypes[n_tok] == gguf.TokenType.UNUSED
    assert ttypes[0] == gguf.TokenType.NORMAL
    merges = _field(r, "tokenizer.ggml.merges")
    assert merges[0] == " ".join(tok["model"]["merges"][0])
    assert _field(r, "tokenizer.ggml.eos_token_id") == im_end
    assert _field(r, "tokenizer.ggml.padding_token_id") == added["<|endoftext|>"]["id"]
    assert _field(r, "tokenizer.chat_template") == CHAT_TEMPLATE
    # general.* and the sampling defaults from generation_config.json.
    assert "not a medical device" in _field(r, "general.description").lower()
    assert _field(r, "general.license") == "apache-2.0"
    assert _field(r, "general.base_model.0.repo_url") == "https://huggingface.co/Qwen/Qwen3-32B"
    assert _field(r, "general.sampling.temp") == pytest.approx(0.7)
    assert _field(r, "general.sampling.top_p") == pytest.approx(0.8)
    assert _field(r, "general.sampling.top_k") == 20
    assert _field(r, "general.file_type") == gguf.LlamaFileType.MOSTLY_BF16
    # llama.cpp reads the yarn settings back.
    llm = load_llama(str(models.gguf(s, "bf16")), n_ctx=64)
    try:
        assert llm.metadata["qwen3.rope.scaling.type"] == "yarn"
        assert llm._model.n_ctx_train() == 4096
    finally:
        llm.close()


def test_every_tensor_is_written_for_untied_and_tied_models(models):
    untied = _types(_reader(models.gguf(spec(), "bf16")))
    tied = _types(_reader(models.gguf(spec(tied=True, layout="tf5"), "bf16")))
    per_layer = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_q_norm", "attn_k_norm",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"}
    for i in range(2):
        assert {f"blk.{i}.{n}.weight" for n in per_layer} <= set(untied)
    assert "output.weight" in untied and "output.weight" not in tied
    assert len(untied) == 3 + 2 * len(per_layer) and len(tied) == len(untied) - 1
    assert untied["blk.0.attn_q_norm.weight"] == T.F32 and untied["output_norm.weight"] == T.F32
    assert untied["blk.0.attn_q.weight"] == T.BF16


def test_bf16_to_bf16_is_a_byte_copy(models):
    s = spec()
    folder = models.checkpoint(s)
    raw = (folder / "model.safetensors").read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + hlen])
    r = _reader(models.gguf(s, "bf16"))
    by_name = {t.name: t for t in r.tensors}
    b, e = header["model.layers.1.mlp.down_proj.weight"]["data_offsets"]
    t = by_name["blk.1.ffn_down.weight"]
    assert bytes(t.data.tobytes()) == raw[8 + hlen + b : 8 + hlen + e]
    assert list(t.shape) == [s.ffn, s.hidden]  # GGUF order: ne0 = row length


def test_q8_0_output_loads_and_generates(models):
    path = models.gguf(spec(), "q8_0")
    types = _types(_reader(path))
    assert types["blk.0.attn_q.weight"] == T.Q8_0 and types["token_embd.weight"] == T.Q8_0
    assert types["output.weight"] == T.Q8_0 and types["blk.0.attn_norm.weight"] == T.F32
    assert _field(_reader(path), "general.file_type") == gguf.LlamaFileType.MOSTLY_Q8_0
    # The numpy Q8_0 equals llama.cpp's own quantizer bit for bit.
    assert isinstance(_generate(path), str)


def test_q4_k_m_output_loads_and_generates(models):
    s = spec()
    path = models.gguf(s, "q4_k_m")
    r = _reader(path)
    types = _types(r)
    assert types["blk.0.attn_q.weight"] == T.Q4_K
    assert types["output.weight"] == T.Q6_K  # llama.cpp's Q4_K_M keeps the output at Q6_K
    assert types["blk.0.ffn_norm.weight"] == T.F32
    assert _field(r, "general.file_type") == gguf.LlamaFileType.MOSTLY_Q4_K_M
    assert _field(r, "tokenizer.chat_template") == CHAT_TEMPLATE
    assert path.stat().st_size < models.gguf(s, "bf16").stat().st_size / 2.5
    _generate(path)
    # The bf16 intermediate is gone unless asked for.
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".partial")]


def test_keep_intermediate_and_other_k_quants(models, outdir):
    folder = models.checkpoint(spec())
    res = run_cli(str(folder), "--quant", "q6_k", "--outdir", str(outdir), "--keep-intermediate", "--progress", "none")
    assert res.returncode == 0, res.stderr
    name = folder.name
    assert listing(outdir) == {f"{name}-Q6_K.gguf", f"{name}-BF16.gguf"}
    assert _types(_reader(outdir / f"{name}-Q6_K.gguf"))["blk.0.attn_q.weight"] == T.Q6_K
    assert _types(_reader(outdir / f"{name}-BF16.gguf"))["blk.0.attn_q.weight"] == T.BF16
    _generate(outdir / f"{name}-Q6_K.gguf")


def test_progress_is_reported_for_conversion_and_quantization(models, outdir):
    folder = models.checkpoint(spec())
    res = run_cli(str(folder), "--quant", "q4_k_m", "--outdir", str(outdir), "--progress", "json")
    assert res.returncode == 0, res.stderr
    events = [json.loads(l) for l in res.stdout.splitlines()]
    assert {e["stage"] for e in events if e.get("done")} == {"Converting"}  # quantized as it is read
    res = run_cli(str(folder), "--quant", "q4_k_m", "--two-step", "--outdir", str(outdir), "--progress", "json",
                  "--force")
    assert res.returncode == 0, res.stderr
    events = [json.loads(l) for l in res.stdout.splitlines()]
    finals = {e["stage"]: e for e in events if e.get("done")}
    assert set(finals) == {"Converting", "Quantizing Q4_K_M"}  # an intermediate, then llama.cpp's quantizer
    for e in finals.values():
        assert e["bytes"] == e["total_bytes"] > 0
        assert e["items"] == e["total_items"] == 25
    assert events[-1]["event"] == "done" and Path(events[-1]["output"]).is_file()
    # The terminal bar shows bytes, tensors and a rate/ETA.
    res = run_cli(str(folder), "--quant", "q8_0", "--outdir", str(outdir), "--progress", "bar")
    assert res.returncode == 0
    assert "25/25 tensors" in res.stderr and "Converting" in res.stderr


def test_f16_output_types(models):
    types = _types(_reader(models.gguf(spec(), "f16")))
    assert types["blk.1.ffn_up.weight"] == T.F16 and types["output_norm.weight"] == T.F32
    data = {t.name: t for t in _reader(models.gguf(spec(), "f16")).tensors}
    f32 = {t.name: t for t in _reader(models.gguf(spec(), "f32")).tensors}
    a = np.asarray(data["blk.0.attn_k.weight"].data, dtype=np.float32)
    b = np.asarray(f32["blk.0.attn_k.weight"].data, dtype=np.float32)
    assert np.allclose(a, b, rtol=1e-3, atol=1e-6)
