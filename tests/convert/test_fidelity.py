"""gazal-convert report: the KL divergence, same-top-token share and perplexities of a quantized
model against its reference, on real llama.cpp with tiny Qwen3 models; checked against a
numpy computation from both models' logits."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from gazal_convert.cli import main as cli_main
from gazal_convert.errors import ConvertError
from gazal_convert.fidelity import log_softmax, read_sidecar, report, windows
from tests.conftest import TINY
from testenv import THREADS

TEXT = ("A 58-year-old man has crushing chest pain and sweating. The ECG shows ST elevation in leads II, III and "
        "aVF. Aspirin is given and the catheter laboratory is called. Hypotension after nitroglycerin suggests "
        "right ventricular involvement, so fluids are given and nitrates are avoided. ") * 6
CTX = 64


def _logits(path, ids):
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=CTX, n_batch=CTX, n_ubatch=CTX, logits_all=True, n_threads=THREADS,
                verbose=False)
    out, targets = [], []
    for s, e in windows(len(ids), CTX):
        llm.reset()
        llm.eval(ids[s:e])
        first = (e - s) // 2
        out.append(np.asarray(llm.scores[first:e - s - 1], dtype=np.float64))
        targets.append(np.asarray(ids[s + first + 1:e]))
    del llm
    return np.concatenate(out), np.concatenate(targets)


def test_a_model_against_itself_has_no_divergence(models):
    q8 = models.gguf(TINY, "q8_0")
    rep = report(q8, q8, TEXT, ctx=CTX, threads=THREADS)
    assert rep.scored > 0 and rep.kld_max < 1e-6 and rep.same_top == 1.0
    assert rep.ppl_quant == pytest.approx(rep.ppl_reference, rel=1e-6)


def test_the_report_matches_numpy_from_both_models_logits(models):
    ref, quant = models.gguf(TINY, "f16"), models.gguf(TINY, "q4_k_m")
    rep = report(quant, ref, TEXT, ctx=CTX, threads=THREADS)
    from llama_cpp import Llama

    tok = Llama(model_path=str(ref), vocab_only=True, verbose=False)
    ids = tok.tokenize(TEXT.encode(), add_bos=False, special=False)
    lp_ref, targets = _logits(ref, ids)
    lp_q, _ = _logits(quant, ids)
    p, q = log_softmax(lp_ref).astype(np.float64), log_softmax(lp_q).astype(np.float64)
    kld = np.maximum((np.exp(p) * (p - q)).sum(axis=1), 0)
    assert rep.scored == len(kld) and rep.tokens == len(ids)
    assert rep.kld_mean == pytest.approx(kld.mean(), rel=1e-3, abs=1e-6)
    assert rep.kld_max == pytest.approx(kld.max(), rel=1e-3, abs=1e-6)
    assert rep.kld_median == pytest.approx(np.median(kld), rel=1e-3, abs=1e-6)
    assert rep.kld_mean > 0  # 4-bit weights do change the predictions
    assert rep.same_top == pytest.approx((p.argmax(1) == q.argmax(1)).mean())
    assert rep.ppl_reference == pytest.approx(math.exp(-p[np.arange(len(p)), targets].mean()), rel=1e-4)
    assert rep.ppl_quant == pytest.approx(math.exp(-q[np.arange(len(q)), targets].mean()), rel=1e-4)


def test_the_command_saves_the_report_beside_the_gguf_and_refuses_a_foreign_tokenizer(models, tmp_path, capsys):
    ref, quant = models.gguf(TINY, "f16"), models.gguf(TINY, "q8_0")
    text = tmp_path / "notes.txt"
    text.write_text(TEXT, encoding="utf-8")
    rc = cli_main(["report", str(quant), "--reference", str(ref), "--text", str(text), "--ctx", str(CTX),
                   "--threads", str(THREADS), "--json"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    saved = read_sidecar(quant)
    assert saved == printed and saved["text"] == "notes.txt" and 0 <= saved["same_top"] <= 1
    other = models.gguf(replace(TINY, vocab_size=640), "q8_0")  # another vocabulary
    with pytest.raises(ConvertError, match="do not share a tokenizer"):
        report(other, ref, TEXT, ctx=CTX, threads=THREADS)
    assert cli_main(["report", str(quant), "--reference", str(tmp_path / "missing.gguf")]) != 0
