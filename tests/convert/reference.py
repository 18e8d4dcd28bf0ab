"""A plain numpy Qwen3 forward pass: the reference the GGUF's logits are checked against.

Written from the Qwen3 architecture (transformers' modeling_qwen3): RMSNorm, per-head
q/k RMSNorm, NeoX-style rotary embeddings, grouped-query causal attention, SwiGLU MLP.
"""

from __future__ import annotations

import numpy as np

from gazal_convert.synthetic import SyntheticSpec


def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def _rope(x: np.ndarray, theta: float) -> np.ndarray:
    t, _, d = x.shape
    inv = theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = np.arange(t, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def forward(weights: dict[str, np.ndarray], spec: SyntheticSpec, tokens: list[int]) -> np.ndarray:
    """Logits (tokens x vocab) in float64."""
    W = {k: v.astype(np.float64) for k, v in weights.items()}
    eps, hd = spec.rms_eps, spec.head_dim
    n = len(tokens)
    x = W["model.embed_tokens.weight"][tokens]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    group = spec.n_head // spec.n_head_kv
    for i in range(spec.n_layers):
        p = f"model.layers.{i}."
        h = _rms(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(n, spec.n_head, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(n, spec.n_head_kv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(n, spec.n_head_kv, hd)
        q = _rope(_rms(q, W[p + "self_attn.q_norm.weight"], eps), spec.rope_theta)
        k = _rope(_rms(k, W[p + "self_attn.k_norm.weight"], eps), spec.rope_theta)
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        att = np.einsum("hqk,khd->qhd", scores, v).reshape(n, spec.n_head * hd)
        x = x + att @ W[p + "self_attn.o_proj.weight"].T
        h = _rms(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = h @ W[p + "mlp.gate_proj.weight"].T
        up = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ W[p + "mlp.down_proj.weight"].T
    x = _rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if spec.tied else W["lm_head.weight"]
    return x @ head.T
