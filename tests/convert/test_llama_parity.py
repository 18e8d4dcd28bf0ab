"""The converted GGUF runs in llama.cpp exactly as the checkpoint runs in a reference."""

from __future__ import annotations

import numpy as np
import pytest
from gazal_convert.llamalog import load_llama
from tokenizers import Tokenizer

from gazal_convert.synthetic import load_weights

from .models import spec
from .reference import forward
from testenv import THREADS

SAMPLES = [
    "A 67-year-old woman presents with sudden dyspnea and pleuritic chest pain after a long flight.",
    "Potassium 6.2 mmol/L, creatinine 2.8 mg/dL; ECG shows peaked T waves. Next step?",
    "Give 0.3 mg IM epinephrine (1 mg/mL) for anaphylaxis —   repeat q5-15 min.\n\nBP 78/40 mm Hg, HR 132.",
    "Étiologie: β-blocker overdose → bradycardia; µg/kg dosing of glucagon, temp 38.5°C",
    "Step 1: Identify the findings.\nStep 2: Consider pulmonary embolism vs. pneumonia.\n",
    "naïve  don't   they'll WE'RE 12345 x2y 2024-11-25\t tab",
]

LAYOUTS = {
    "tf4-untied": spec(),
    "tf5-tied-sharded": spec(layout="tf5", tied=True, shards=3),
}


def _llama_logits(path, tokens: list[int]) -> np.ndarray:
    # f32 KV cache so the comparison measures the conversion, not cache rounding.
    llm = load_llama(str(path), n_ctx=256, n_threads=THREADS, type_k=0, type_v=0, logits_all=True)
    try:
        llm.eval(tokens)
        return np.array(llm.scores[: len(tokens)], dtype=np.float64)
    finally:
        llm.close()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_llama_tokenizes_like_the_hf_tokenizer(models, layout):
    s = LAYOUTS[layout]
    hf = Tokenizer.from_file(str(models.checkpoint(s) / "tokenizer.json"))
    llm = load_llama(str(models.gguf(s, "f32")), vocab_only=True)
    try:
        for text in SAMPLES:
            expected = hf.encode(text).ids
            assert llm.tokenize(text.encode(), add_bos=False, special=False) == expected, text
        chat = "<|im_start|>user\nWhat causes hyperkalemia?<|im_end|>\n<|im_start|>assistant\n<think>\n"
        assert llm.tokenize(chat.encode(), add_bos=False, special=True) == hf.encode(chat).ids
        # Detokenizing gives the text back, byte for byte.
        ids = hf.encode(SAMPLES[3]).ids
        assert llm.detokenize(ids).decode() == SAMPLES[3]
    finally:
        llm.close()


@pytest.mark.parametrize(
    "name,s",
    [
        ("bf16-untied-tf4", spec()),
        ("bf16-tied-tf5-sharded", spec(layout="tf5", tied=True, shards=2)),
        ("f16-source", spec(dtype="F16", seed=3)),
        ("f32-source", spec(dtype="F32", seed=4, tied=True)),
    ],
)
def test_f32_gguf_logits_match_reference_forward_pass(models, name, s):
    folder = models.checkpoint(s)
    hf = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokens = hf.encode(SAMPLES[0] + " " + SAMPLES[1]).ids
    ref = forward(load_weights(folder, s), s, tokens)
    got = _llama_logits(models.gguf(s, "f32"), tokens)
    assert got.shape == ref.shape == (len(tokens), s.vocab_size)
    scale = np.abs(ref).max()
    assert np.abs(got - ref).max() <= 1e-4 * scale, f"max diff {np.abs(got - ref).max()} vs scale {scale}"
    # And the model would pick the same next token at every position.
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.97


def test_bf16_output_keeps_the_reference_logits(models):
    s = spec()
    folder = models.checkpoint(s)
    tokens = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(SAMPLES[4]).ids
    ref = forward(load_weights(folder, s), s, tokens)
    got = _llama_logits(models.gguf(s, "bf16"), tokens)
    # bf16 matmuls round activations; the weights themselves are bit-identical.
    assert np.abs(got - ref).max() <= 3e-2 * np.abs(ref).max()
