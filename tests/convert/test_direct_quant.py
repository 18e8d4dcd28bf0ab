"""Quantizing straight from the checkpoint gives the tensors llama.cpp's quantizer gives from
the intermediate GGUF of the same checkpoint, byte for byte, for every mix quantized that way;
an importance matrix changes the output as ggml's quantization with that matrix does."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader

from gazal_convert.cli import main as cli_main
from gazal_convert.direct_quant import load_imatrix, loader_order, quantize_rows
from gazal_convert.errors import ConvertError

from .models import spec

STREAMED = ["q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q6_k", "q4_0", "q3_k_l", "q3_k_m", "q3_k_s", "q2_k", "iq4_xs"]
# 12 layers: llama.cpp counts attention-V and FFN-down tensors in its loader's order, where
# blk.10 comes after blk.9 (not after blk.1 as a plain sort would put it).
SPECS = {
    "untied-tf4": spec(n_layers=12),
    "tied-tf5": spec(n_layers=12, tied=True, layout="tf5", shards=2),
    "odd-rows-f32": spec(n_layers=3, hidden=160, n_head=2, n_head_kv=1, head_dim=96, ffn=480, dtype="F32"),
    "gqa4-f16": spec(n_layers=17, n_head=8, n_head_kv=2, head_dim=32, dtype="F16"),  # more-bits rules for GQA
}


def _tensors(path):
    r = GGUFReader(path)
    return {t.name: (T(t.tensor_type), bytes(np.asarray(t.data).tobytes())) for t in r.tensors}


def _convert(models, s, quant, *extra):
    out = models.checkpoint(s).parent / f"{models.checkpoint(s).name}-{quant}{'-'.join(('',) + extra)}.gguf"
    if not out.exists():
        rc = cli_main([str(models.checkpoint(s)), "--quant", quant, "--outfile", str(out), "--progress", "none",
                       "--threads", "2", *extra])
        assert rc == 0
    return out


@pytest.mark.parametrize("quant", STREAMED)
@pytest.mark.parametrize("layout", list(SPECS))
def test_streamed_tensors_are_byte_identical_to_llama_cpps_quantizer(models, layout, quant):
    s = SPECS[layout]
    direct = _tensors(_convert(models, s, quant))
    two_step = _tensors(_convert(models, s, quant, "--two-step"))
    assert direct.keys() == two_step.keys()
    for name in loader_order(list(direct)):
        assert direct[name][0] == two_step[name][0], (name, direct[name][0], two_step[name][0])
        assert direct[name][1] == two_step[name][1], name


def test_the_mix_follows_llama_cpps_rules(models):
    types = {n: t for n, (t, _) in _tensors(_convert(models, SPECS["untied-tf4"], "q4_k_m")).items()}
    more = [i for i in range(12) if i < 1 or i >= 10 or (i - 1) % 3 == 2]  # use_more_bits for 12 layers
    assert [i for i in range(12) if types[f"blk.{i}.attn_v.weight"] == T.Q6_K] == more
    assert [i for i in range(12) if types[f"blk.{i}.ffn_down.weight"] == T.Q6_K] == more
    assert types["output.weight"] == T.Q6_K and types["token_embd.weight"] == T.Q4_K
    assert types["blk.0.attn_norm.weight"] == T.F32 and types["blk.5.attn_q.weight"] == T.Q4_K


def _write_legacy_imatrix(path, entries: dict[str, np.ndarray], ncall: int = 4):
    raw = struct.pack("<i", len(entries))
    for name, values in entries.items():
        b = name.encode()
        raw += struct.pack("<i", len(b)) + b + struct.pack("<ii", ncall, len(values))
        raw += (values * ncall).astype("<f4").tobytes()  # llama-imatrix stores sums scaled by ncall
    raw += struct.pack("<i", 10) + struct.pack("<i", 4) + b"wiki"
    path.write_bytes(raw)


def test_an_imatrix_changes_the_quantized_tensors_as_ggml_does(models, tmp_path):
    s = SPECS["untied-tf4"]
    rng = np.random.default_rng(0)
    importance = {f"blk.{i}.ffn_up.weight": rng.uniform(0.01, 10, 256).astype(np.float32) for i in range(12)}
    imx = tmp_path / "model.imatrix.dat"
    _write_legacy_imatrix(imx, importance)
    loaded = load_imatrix(imx)
    assert all(np.allclose(loaded[k], v, rtol=1e-6) for k, v in importance.items())
    plain = _tensors(_convert(models, s, "q4_k_m"))
    out = tmp_path / "imx.gguf"
    assert cli_main([str(models.checkpoint(s)), "--quant", "q4_k_m", "--outfile", str(out), "--progress", "none",
                     "--imatrix", str(imx)]) == 0
    weighted = _tensors(out)
    name = "blk.3.ffn_up.weight"
    assert weighted[name][1] != plain[name][1]  # the importance moved the rounding
    assert weighted["blk.3.attn_q.weight"] == plain["blk.3.attn_q.weight"]  # no data: unchanged
    from gazal_convert.synthetic import load_weights

    w = load_weights(models.checkpoint(s), s)["model.layers.3.mlp.up_proj.weight"].astype(np.float32)
    expected = quantize_rows(w, T.Q4_K, loaded[name]).tobytes()
    assert weighted[name][1] == expected


def test_an_imatrix_for_another_model_or_type_is_refused_in_words(models, tmp_path):
    s = SPECS["untied-tf4"]
    imx = tmp_path / "other.dat"
    _write_legacy_imatrix(imx, {"blk.0.ffn_up.weight": np.ones(100, np.float32)})
    out = tmp_path / "x.gguf"
    assert cli_main([str(models.checkpoint(s)), "--quant", "q4_k_m", "--outfile", str(out), "--progress", "none",
                     "--imatrix", str(imx)]) != 0
    assert not out.exists()
    with pytest.raises(ConvertError, match="not an importance matrix"):
        bad = tmp_path / "bad.dat"
        bad.write_bytes(b"\x01\x00")
        load_imatrix(bad)
    assert cli_main([str(models.checkpoint(s)), "--quant", "q3_k_m", "--outfile", str(out), "--progress", "none",
                     "--two-step", "--imatrix", str(imx)]) != 0  # llama.cpp's quantizer: said, not ignored
