"""``gazal-convert inspect``: read a GGUF back, then load it in llama.cpp and generate."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gazal_convert.errors import ConvertError
from gazal_convert.gguf_info import GGUF_MAGIC, GGUFSummary, read_summary  # noqa: F401 - re-exported
from gazal_convert.sizes import human_bytes

def format_summary(s: GGUFSummary, full_template: bool = False) -> str:
    a = s.architecture
    lines = [
        f"File          {s.path} ({human_bytes(s.file_size)}, GGUF v{s.version})",
        f"Architecture  {a}",
        f"Name          {s.metadata.get('general.name', '-')}",
        f"Parameters    {s.n_params / 1e9:.3f} B in {len(s.tensors)} tensors",
    ]
    hp = [k for k in s.metadata if k.startswith(a + ".")]
    if hp:
        lines.append("Hyperparameters")
        lines += [f"  {k[len(a) + 1:]:<36} {s.metadata[k]}" for k in sorted(hp)]
    lines.append("Tensor types")
    for t, n in s.tensor_types.most_common():
        lines.append(f"  {t:<8} {n:>5} tensors  {human_bytes(s.tensor_type_bytes[t])}")
    tok = {k: v for k, v in s.metadata.items() if k.startswith("tokenizer.ggml.")}
    if tok:
        lines.append("Tokenizer")
        lines.append(
            f"  model {tok.get('tokenizer.ggml.model')}, pre {tok.get('tokenizer.ggml.pre')}, "
            f"{s.n_tokens} tokens, {s.n_merges} merges"
        )
        for k in ("bos_token_id", "eos_token_id", "padding_token_id", "add_bos_token"):
            if "tokenizer.ggml." + k in tok:
                lines.append(f"  {k:<18} {tok['tokenizer.ggml.' + k]}")
    gen = {k: v for k, v in s.metadata.items() if k.startswith("general.") and k != "general.architecture"}
    if gen:
        lines.append("General")
        lines += [f"  {k[8:]:<24} {v}" for k, v in gen.items()]
    template = s.metadata.get("tokenizer.chat_template")
    if template:
        text = str(template)
        if not full_template and text.count("\n") > 6:
            head = "\n".join(text.splitlines()[:6])
            text = f"{head}\n  ... ({len(str(template))} characters; --template shows it all)"
        lines.append("Chat template")
        lines += ["  " + l for l in text.splitlines()]
    else:
        lines.append("Chat template  (none)")
    return "\n".join(lines)


def load_and_generate(path: Path, prompt: str, n_predict: int, n_gpu_layers: int = 0) -> tuple[str, float]:
    """Load with llama.cpp and generate greedily; returns (text, tokens per second)."""
    from gazal_convert.llamalog import LlamaLog, load_llama

    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ConvertError(f"llama-cpp-python is not installed: {exc}") from None
    with LlamaLog() as log:
        try:
            llm = load_llama(path, n_ctx=256, n_gpu_layers=n_gpu_layers,
                             n_threads=max(1, min(8, os.cpu_count() or 1)))
        except (ValueError, RuntimeError, OSError) as exc:
            detail = log.tail(4, contains=("error", "failed", "invalid", "wrong", "missing", "unknown"))
            raise ConvertError(f"llama.cpp could not load {path}: {exc}\n{detail}".rstrip()) from None
    try:
        t0 = time.perf_counter()
        out = llm.create_completion(prompt, max_tokens=n_predict, temperature=0.0, top_k=1)
        dt = time.perf_counter() - t0
        n = out["usage"]["completion_tokens"]
        return out["choices"][0]["text"], (n / dt if dt > 0 else 0.0)
    finally:
        llm.close()
