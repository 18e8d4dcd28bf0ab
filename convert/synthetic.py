"""Synthetic Qwen3 checkpoints with random weights, for tests and benchmarks.

Random weights run at the same speed as trained ones and exercise every code path of
the converter; the byte-level BPE tokenizer is trained here on a small clinical corpus.
Everything is streamed to disk, so multi-GB checkpoints need little memory.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from gazal_convert.vocab import QWEN2_SPLIT

CORPUS = """\
A 58-year-old man presents to the emergency department with crushing substernal chest pain
radiating to the left arm for 45 minutes. He is diaphoretic. Blood pressure is 150/90 mm Hg,
heart rate 104/min. The ECG shows ST-segment elevation in leads II, III and aVF. Troponin I is
elevated. The most likely diagnosis is an inferior myocardial infarction; give aspirin 325 mg,
arrange emergent percutaneous coronary intervention and monitor for bradycardia.
A 24-year-old woman has fever 39.2 C, dysuria and flank pain; urinalysis shows leukocyte esterase
and nitrites. Pyelonephritis is treated with ceftriaxone. Serum creatinine 1.4 mg/dL, potassium
5.8 mmol/L, sodium 131 mEq/L, glucose 320 mg/dL, pH 7.21, bicarbonate 12 mEq/L: diabetic
ketoacidosis needs insulin, fluids and potassium replacement. Step 1: identify the key findings.
Step 2: build a differential diagnosis. Step 3: choose the next best step in management.
Primary Diagnosis: community-acquired pneumonia. Reasoning: productive cough, crackles and a lobar
consolidation on chest radiograph. Immediate Management: oxygen, blood cultures, antibiotics.
Follow-up: repeat chest X-ray in 6 weeks. Warfarin interacts with amiodarone; INR rises.
"""

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
USER_TOKENS = ["<think>", "</think>"]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
)


def _bytes_to_unicode() -> dict[int, str]:
    from gguf.vocab import bytes_to_unicode

    return bytes_to_unicode()


def train_bpe(corpus: str, n_merges: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A plain byte-level BPE: 256 byte symbols, then the most frequent pair merges."""
    b2u = _bytes_to_unicode()
    vocab = {b2u[b]: i for i, b in enumerate(sorted(b2u))}
    words = Counter()
    for line in corpus.splitlines():
        for i, w in enumerate(line.split(" ")):
            if w:
                text = (" " if i else "") + w
                words[tuple(b2u[b] for b in text.encode("utf-8"))] += 1
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if count < 2:
            break
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        new_words = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += c
        words = new_words
    return vocab, merges


def tokenizer_json(n_merges: int = 300) -> tuple[dict, int]:
    """A Qwen2-style tokenizer.json and its number of tokens."""
    vocab, merges = train_bpe(CORPUS, n_merges)
    added = []
    next_id = len(vocab)
    for tok in SPECIAL_TOKENS + USER_TOKENS:
        added.append({"id": next_id, "content": tok, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": tok in SPECIAL_TOKENS})
        next_id += 1
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [[a, b] for a, b in merges],
        },
    }
    return data, next_id


@dataclass(frozen=True)
class SyntheticSpec:
    """Shape and layout of a synthetic Qwen3 checkpoint."""

    n_layers: int = 2
    hidden: int = 256
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 128  # deliberately not hidden / n_head
    ffn: int = 512
    vocab_size: int = 512  # config vocab, larger than the tokenizer: the rest is padding
    max_positions: int = 4096
    rope_theta: float = 1_000_000.0
    rms_eps: float = 1e-6
    tied: bool = False
    layout: str = "tf4"  # "tf4": rope_theta + chat_template in tokenizer_config; "tf5": rope_parameters + .jinja
    dtype: str = "BF16"  # BF16, F16 or F32
    shards: int = 1
    yarn_factor: float | None = None
    yarn_original: int = 1024
    seed: int = 0
    std: float = 0.02
    n_merges: int = 300

    def shapes(self) -> dict[str, tuple[int, ...]]:
        # Written out independently of Qwen3Converter.expected_shapes on purpose: the tests
        # use these checkpoints as an oracle for the converter's own shape checks.
        h, hd = self.hidden, self.head_dim
        s: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (self.vocab_size, h)}
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            s.update({
                p + "input_layernorm.weight": (h,),
                p + "self_attn.q_proj.weight": (self.n_head * hd, h),
                p + "self_attn.k_proj.weight": (self.n_head_kv * hd, h),
                p + "self_attn.v_proj.weight": (self.n_head_kv * hd, h),
                p + "self_attn.o_proj.weight": (h, self.n_head * hd),
                p + "self_attn.q_norm.weight": (hd,),
                p + "self_attn.k_norm.weight": (hd,),
                p + "post_attention_layernorm.weight": (h,),
                p + "mlp.gate_proj.weight": (self.ffn, h),
                p + "mlp.up_proj.weight": (self.ffn, h),
                p + "mlp.down_proj.weight": (h, self.ffn),
            })
        s["model.norm.weight"] = (h,)
        if not self.tied:
            s["lm_head.weight"] = (self.vocab_size, h)
        return s

    def config(self) -> dict:
        cfg = {
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "hidden_size": self.hidden,
            "intermediate_size": self.ffn,
            "num_hidden_layers": self.n_layers,
            "num_attention_heads": self.n_head,
            "num_key_value_heads": self.n_head_kv,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.max_positions,
            "rms_norm_eps": self.rms_eps,
            "tie_word_embeddings": self.tied,
            "attention_bias": False,
            "hidden_act": "silu",
            "bos_token_id": None,
            "eos_token_id": None,
        }
        scaling = None
        if self.yarn_factor:
            scaling = {"rope_type": "yarn", "factor": self.yarn_factor,
                       "original_max_position_embeddings": self.yarn_original}
        torch_dtype = {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}[self.dtype]
        if self.layout == "tf5":
            cfg["rope_parameters"] = dict(scaling or {"rope_type": "default"}, rope_theta=self.rope_theta)
            cfg["dtype"] = torch_dtype
            cfg["transformers_version"] = "5.0.0"
        else:
            cfg["rope_theta"] = self.rope_theta
            cfg["rope_scaling"] = scaling
            cfg["torch_dtype"] = torch_dtype
            cfg["transformers_version"] = "4.51.0"
        return cfg

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The f32 value of a tensor (deterministic per name and seed)."""
        rng = np.random.default_rng([self.seed, zlib_crc(name)])
        if len(shape) == 1:
            return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        return (self.std * rng.standard_normal(shape)).astype(np.float32)


def zlib_crc(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


def encode(values: np.ndarray, dtype: str) -> np.ndarray:
    """f32 -> the on-disk little-endian bytes of `dtype` (bf16 rounds to nearest even)."""
    if dtype == "F32":
        return values.astype("<f4")
    if dtype == "F16":
        return values.astype("<f2")
    u = values.astype(np.float32).view(np.uint32)
    return ((u + (0x7FFF + ((u >> 16) & 1))) >> 16).astype("<u2")


def decode(raw: np.ndarray, dtype: str) -> np.ndarray:
    """The inverse of :func:`encode`: what the checkpoint's weights really are, in f32."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(np.float32)


def write_safetensors(path: Path, tensors: dict[str, tuple[tuple[int, ...], str]],
                      chunks_for) -> None:
    """Write a safetensors file; `chunks_for(name)` yields each tensor's bytes in order."""
    sizes = {"BF16": 2, "F16": 2, "F32": 4}
    header: dict = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, (shape, dt) in tensors.items():
        n = math.prod(shape) * sizes[dt]
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for name in tensors:
            for chunk in chunks_for(name):
                fh.write(chunk)


def build_checkpoint(folder: Path, spec: SyntheticSpec, fast_fill: bool = False) -> Path:
    """Write config, tokenizer, generation config, model card and safetensors to `folder`.

    With `fast_fill`, big tensors repeat one random block instead of drawing every value
    (benchmarks of multi-GB checkpoints; the converter's speed does not depend on values).
    """
    folder.mkdir(parents=True, exist_ok=True)
    tok, n_tokens = tokenizer_json(spec.n_merges)
    if n_tokens > spec.vocab_size:
        raise ValueError(f"vocab_size {spec.vocab_size} is smaller than the tokenizer ({n_tokens})")
    (folder / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    tok_cfg = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": spec.max_positions,
        "tokenizer_class": "Qwen2Tokenizer",
        "added_tokens_decoder": {
            str(a["id"]): {k: a[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
            for a in tok["added_tokens"]
        },
    }
    if spec.layout == "tf5":
        (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE, encoding="utf-8")
    else:
        tok_cfg["chat_template"] = CHAT_TEMPLATE
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps(spec.config(), indent=2), encoding="utf-8")
    (folder / "generation_config.json").write_text(json.dumps(
        {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "eos_token_id": [n_tokens - 3]}
    ), encoding="utf-8")
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen3-32B\ntags:\n- medical\n- synthetic\n---\n"
        "# Synthetic Qwen3 (random weights, for tests only)\n",
        encoding="utf-8",
    )

    shapes = spec.shapes()
    names = list(shapes)
    groups = [names[i::spec.shards] for i in range(spec.shards)] if spec.shards > 1 else [names]
    block = None
    if fast_fill:
        rng = np.random.default_rng(spec.seed)
        block = encode((spec.std * rng.standard_normal(8 * 1024 * 1024)).astype(np.float32), spec.dtype).tobytes()

    def chunks_for(name: str) -> Iterator[bytes]:
        shape = shapes[name]
        if block is None or math.prod(shape) < 1024 * 1024:
            yield encode(spec.tensor(name, shape), spec.dtype).tobytes()
            return
        left = math.prod(shape) * (4 if spec.dtype == "F32" else 2)
        while left:
            n = min(left, len(block))
            yield block[:n]
            left -= n

    weight_map = {}
    for i, group in enumerate(groups):
        fname = "model.safetensors" if spec.shards == 1 else f"model-{i + 1:05d}-of-{spec.shards:05d}.safetensors"
        write_safetensors(folder / fname, {n: (shapes[n], spec.dtype) for n in group}, chunks_for)
        weight_map.update({n: fname for n in group})
    if spec.shards > 1:
        total = sum(math.prod(s) for s in shapes.values()) * (4 if spec.dtype == "F32" else 2)
        (folder / "model.safetensors.index.json").write_text(json.dumps(
            {"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2), encoding="utf-8")
    return folder


def load_weights(folder: Path, spec: SyntheticSpec) -> dict[str, np.ndarray]:
    """The checkpoint's weights as f32, exactly as stored (after dtype rounding)."""
    shapes = spec.shapes()
    return {n: decode(encode(spec.tensor(n, s), spec.dtype), spec.dtype) for n, s in shapes.items()}
