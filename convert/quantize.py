"""K-quants and IQ types: llama.cpp's quantizer through llama-cpp-python's bindings."""

from __future__ import annotations

import ctypes
import re
import threading
from pathlib import Path

from gazal_convert.errors import ConvertError
from gazal_convert.llamalog import LlamaLog
from gazal_convert.progress import Progress
from gazal_convert.quants import QuantType

# llama.cpp logs "[  12/ 707]   blk.1.attn_q.weight - [...], type = bf16, converting to q4_K .."
TENSOR_LINE = re.compile(r"\[\s*(\d+)\s*/\s*(\d+)\s*\]\s+(\S+)")


def quantize_gguf(
    src: Path, dst: Path, quant: QuantType, tensor_bytes: dict[str, int], threads: int, progress: Progress
) -> None:
    """Quantize GGUF `src` into `dst` (which the caller treats as a temporary).

    `tensor_bytes` (name -> bytes in `src`) drives a byte-accurate progress bar from the
    per-tensor lines llama.cpp logs. Ctrl-C is answered at once: the C call cannot be
    stopped, so it runs on a daemon thread and the caller discards its output.
    """
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ConvertError(f"llama-cpp-python is needed for {quant.name}: {exc}") from None

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = int(quant.ftype)
    params.nthread = max(1, threads)

    state = {"buf": "", "pos": 0, "current": None}
    progress.start(f"Quantizing {quant.label}", sum(tensor_bytes.values()), len(tensor_bytes))

    def on_text(text: str) -> None:
        state["buf"] += text
        for m in TENSOR_LINE.finditer(state["buf"], state["pos"]):
            _done_with(state["current"])
            state["current"] = m.group(3)
            state["pos"] = m.end()
        if len(state["buf"]) > 65536:  # keep the buffer bounded
            state["buf"] = state["buf"][state["pos"]:]
            state["pos"] = 0

    def _done_with(name: str | None) -> None:
        if name is not None:
            progress.advance(tensor_bytes.get(name, 0), items=1, label=name)

    result: dict[str, int] = {}

    def run() -> None:
        result["rc"] = llama_cpp.llama_model_quantize(
            str(src).encode(), str(dst).encode(), ctypes.byref(params)
        )

    with LlamaLog(on_text) as log:
        worker = threading.Thread(target=run, name="llama-quantize", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
    _done_with(state["current"])
    progress.finish()
    rc = result.get("rc", -1)
    if rc != 0:
        detail = log.tail(6, contains=("error", "failed", "invalid", "unsupported"))
        raise ConvertError(f"llama.cpp could not quantize to {quant.name} (code {rc}).\n{detail}".rstrip())
