"""What a quantization cost, measured: ``gazal-convert report QUANT.gguf --reference REF.gguf``.

Both models read the same medical text in windows (as llama.cpp's ``llama-perplexity`` does:
each window of ``ctx`` tokens is read from a fresh cache and its second half is scored). For
every scored token: the KL divergence from the reference's next-token distribution to the
quantized model's, whether both put the same token first, and each model's log-likelihood of
the actual next token (for perplexity).

Memory stays bounded: one model is loaded at a time; the reference's log-probabilities for the
scored tokens go to a temporary file (float32, tokens x vocabulary) that the second pass reads
row by row. The report is written beside the quantized GGUF (``FILE.gguf.fidelity.json``),
where the app finds it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from gazal_convert.errors import ConvertError

DEFAULT_CTX = 512
SIDECAR = ".fidelity.json"


@dataclass
class FidelityReport:
    quant: str
    reference: str
    text: str
    tokens: int  # of the text
    scored: int  # tokens scored (the second half of each window)
    ctx: int
    kld_mean: float
    kld_median: float
    kld_p99: float
    kld_max: float
    same_top: float  # share of scored tokens where both models rank the same token first
    ppl_quant: float
    ppl_reference: float
    created_at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"same top token {self.same_top:.1%}, KLD {self.kld_mean:.4f} (median {self.kld_median:.4f}, "
                f"99th percentile {self.kld_p99:.4f}, max {self.kld_max:.4f}); perplexity {self.ppl_quant:.3f} vs "
                f"{self.ppl_reference:.3f} for the reference ({self.scored:,} tokens scored)")


def sidecar_path(gguf: Path) -> Path:
    return Path(str(gguf) + SIDECAR)


def read_sidecar(gguf: Path) -> dict | None:
    """The report stored beside a GGUF, or None (absent or unreadable: the app shows nothing)."""
    try:
        data = json.loads(sidecar_path(gguf).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "same_top" in data and "kld_mean" in data else None


def default_text() -> str:
    from gazal_desktop import resources

    return resources.read_text("fidelity_text.md")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """In float32 (a window of Qwen3 logits is 255 x 151,936 values), summed in float64."""
    x = np.asarray(logits, dtype=np.float32)
    shifted = x - x.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=-1, keepdims=True, dtype=np.float64)).astype(np.float32)
    return shifted - lse


def windows(n_tokens: int, ctx: int) -> list[tuple[int, int]]:
    """(start, end) of each window: whole windows of `ctx` tokens; a text shorter than one
    window is one window."""
    if n_tokens < 4:
        raise ConvertError("The text is too short to score: it needs at least a few sentences.")
    if n_tokens <= ctx:
        return [(0, n_tokens)]
    return [(s, s + ctx) for s in range(0, n_tokens - ctx + 1, ctx)]


def scored_logprobs(llm, ids: list[int], ctx: int, progress: Callable[[int, int], None] | None = None
                    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per window: the log-probabilities the model gives each scored position's next token
    (rows: positions, columns: vocabulary) and the actual next tokens."""
    spans = windows(len(ids), ctx)
    for k, (start, end) in enumerate(spans, 1):
        toks = ids[start:end]
        llm.reset()
        llm.eval(toks)
        first = len(toks) // 2
        logits = np.asarray(llm.scores[first:len(toks) - 1], dtype=np.float32)
        yield log_softmax(logits), np.asarray(toks[first + 1:], dtype=np.int64)
        if progress is not None:
            progress(k, len(spans))


def _load(path: Path, ctx: int, threads: int | None, gpu_layers: int):
    from gazal_convert.llamalog import load_llama

    try:
        return load_llama(path, n_ctx=ctx, n_batch=ctx, n_ubatch=ctx, logits_all=True, n_threads=threads,
                          n_gpu_layers=gpu_layers)
    except (ValueError, RuntimeError, OSError) as e:
        raise ConvertError(f"llama.cpp could not load {path.name}: {e}") from None


def report(quant: Path, reference: Path, text: str | None = None, text_name: str = "", ctx: int = DEFAULT_CTX,
           threads: int | None = None, gpu_layers: int = 0,
           progress: Callable[[str, int, int], None] | None = None) -> FidelityReport:
    """Compare `quant` with `reference` on `text` (default: the bundled medical text)."""
    quant, reference = Path(quant), Path(reference)
    for p in (quant, reference):
        if not p.is_file():
            raise ConvertError(f"{p} does not exist")
    text = default_text() if text is None else text
    ref = _load(reference, ctx, threads, gpu_layers)
    try:
        ids = ref.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        n_vocab = ref.n_vocab()
        n_scored = sum(e - s - (e - s) // 2 - 1 for s, e in windows(len(ids), ctx))
        need, free = n_scored * n_vocab * 4, shutil.disk_usage(quant.parent).free
        if need > free:
            raise ConvertError(f"The report needs {need / 2**30:.1f} GiB of temporary space beside {quant.name} "
                               f"({n_scored:,} tokens x {n_vocab:,}); {free / 2**30:.1f} GiB is free. Free some "
                               "space, or use a shorter --text.")
        with tempfile.TemporaryDirectory(prefix="gazal-fidelity-", dir=quant.parent) as tmp:
            store = np.lib.format.open_memmap(Path(tmp) / "reference.npy", mode="w+", dtype=np.float32,
                                              shape=(n_scored, n_vocab))
            nll_ref, row = [], 0
            for lp, targets in scored_logprobs(ref, ids, ctx, lambda k, n: progress and progress("reference", k, n)):
                store[row:row + len(lp)] = lp
                nll_ref.append(-lp[np.arange(len(lp)), targets])
                row += len(lp)
            store.flush()
            del ref
            ref = None
            q = _load(quant, ctx, threads, gpu_layers)
            try:
                if q.n_vocab() != n_vocab or q.tokenize(text.encode("utf-8"), add_bos=False, special=False) != ids:
                    raise ConvertError("The two models do not share a tokenizer: they cannot be compared token by "
                                       "token.")
                kld, same, nll_q, row = [], 0, [], 0
                for lq, targets in scored_logprobs(q, ids, ctx, lambda k, n: progress and progress("quantized", k, n)):
                    lp = np.asarray(store[row:row + len(lq)])
                    kld.append((np.exp(lp) * (lp - lq)).sum(axis=1, dtype=np.float64))
                    same += int((lp.argmax(axis=1) == lq.argmax(axis=1)).sum())
                    nll_q.append(-lq[np.arange(len(lq)), targets])
                    row += len(lq)
            finally:
                del q
            del store
    finally:
        if ref is not None:
            del ref
    k = np.maximum(np.concatenate(kld), 0.0)  # rounding can make a zero divergence -1e-9
    return FidelityReport(
        quant=quant.name, reference=reference.name, text=text_name or "the bundled medical text", tokens=len(ids),
        scored=len(k), ctx=ctx, kld_mean=float(k.mean()), kld_median=float(np.median(k)),
        kld_p99=float(np.percentile(k, 99)), kld_max=float(k.max()), same_top=same / len(k),
        ppl_quant=math.exp(float(np.concatenate(nll_q).astype(np.float64).mean())),
        ppl_reference=math.exp(float(np.concatenate(nll_ref).astype(np.float64).mean())),
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))


def save(rep: FidelityReport, quant: Path) -> Path:
    from gazal_convert import atomic

    path = sidecar_path(Path(quant))
    tmp = atomic.temp_path_for(path)
    try:
        tmp.write_text(json.dumps(rep.to_dict(), indent=1), encoding="utf-8")
        atomic.commit(tmp, path)
    finally:
        atomic.discard(tmp)
    return path
