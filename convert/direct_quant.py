"""Quantize straight from the checkpoint: ggml's own quantization (``ggml_quantize_chunk`` in
the libggml that llama-cpp-python ships, through ctypes) with the per-tensor types llama.cpp's
quantizer would choose, so the tensors are byte-identical to ``llama_model_quantize`` run on
the bf16/f16 GGUF of the same checkpoint, without writing that GGUF.

The type rules are those of ``src/llama-quant.cpp`` in the llama.cpp that llama-cpp-python
0.3.36 vendors (``llama_tensor_get_type_impl``, ``tensor_type_fallback``,
``tensor_allows_quantization``) for a dense model such as Qwen3 (no experts, not Falcon, not
70B, no fused QKV), for every mix gazal-convert offers (DIRECT_FTYPES). Two details decide the
bytes:

* llama.cpp walks tensors in its loader's order (by layer number, then by name), and its
  "more bits" rules for attention V and FFN down count tensors in that order;
* it quantizes from the intermediate GGUF's values, so an f32 checkpoint is rounded to the
  intermediate's f16 first, as the two-step path does.

Rows are independent in every supported type, so quantizing a tensor in chunks of rows on
all cores gives the same bytes as llama.cpp's own chunking.
"""

from __future__ import annotations

import ctypes
import re
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import LlamaFileType as F

from gazal_convert.errors import ConvertError

# The mixes quantized here: the default tensor type of each (llama_ftype_get_default_type).
DIRECT_FTYPES: dict[F, T] = {
    F.MOSTLY_Q4_K_M: T.Q4_K, F.MOSTLY_Q4_K_S: T.Q4_K, F.MOSTLY_Q5_K_M: T.Q5_K, F.MOSTLY_Q5_K_S: T.Q5_K,
    F.MOSTLY_Q6_K: T.Q6_K, F.MOSTLY_Q4_0: T.Q4_0, F.MOSTLY_Q3_K_S: T.Q3_K, F.MOSTLY_Q3_K_M: T.Q3_K,
    F.MOSTLY_Q3_K_L: T.Q3_K, F.MOSTLY_Q2_K: T.Q2_K, F.MOSTLY_IQ4_XS: T.IQ4_XS,
}
QK_K = 256
BLOCK = {T.Q2_K: QK_K, T.Q3_K: QK_K, T.Q4_K: QK_K, T.Q5_K: QK_K, T.Q6_K: QK_K, T.IQ4_XS: QK_K, T.IQ4_NL: 32,
         T.Q4_0: 32, T.Q4_1: 32, T.Q5_0: 32, T.Q5_1: 32, T.Q8_0: 32, T.F16: 1, T.BF16: 1, T.F32: 1}
FALLBACK = {T.Q2_K: T.Q4_0, T.Q3_K: T.Q4_0, T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0, T.IQ4_XS: T.IQ4_NL}


# -- libggml -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _ggml():
    try:
        import llama_cpp._ctypes_extensions as ext
        import llama_cpp
    except ImportError as e:  # pragma: no cover - a dependency
        raise ConvertError(f"llama-cpp-python is needed to quantize: {e}") from None
    lib = ext.load_shared_library("ggml-base", Path(llama_cpp.__file__).parent / "lib")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    return lib


def row_size(qtype: T, n_per_row: int) -> int:
    return int(_ggml().ggml_row_size(int(qtype), n_per_row))


def quantize_rows(data: np.ndarray, qtype: T, imatrix: np.ndarray | None = None) -> np.ndarray:
    """`data` (rows x n_per_row, float32) in ggml's `qtype`, as ggml_quantize_chunk writes it."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    nrows, n_per_row = data.shape
    out = np.empty(nrows * row_size(qtype, n_per_row), dtype=np.uint8)
    imx = None
    if imatrix is not None:
        imatrix = np.ascontiguousarray(imatrix, dtype=np.float32)
        imx = imatrix.ctypes.data
    written = _ggml().ggml_quantize_chunk(int(qtype), data.ctypes.data, out.ctypes.data, 0, nrows, n_per_row, imx)
    if written != out.nbytes:
        raise ConvertError(f"ggml wrote {written} bytes for {nrows} rows of {qtype.name}, expected {out.nbytes}")
    return out


# -- which type each tensor gets -------------------------------------------------------------------
def loader_order(names: list[str]) -> list[str]:
    """llama.cpp's model-loader order: by layer number (tensors outside blocks first), then name."""
    def key(name: str):
        m = re.match(r"blk\.(\d+)\.", name)
        return (int(m.group(1)) if m else -1, name.encode())

    return sorted(names, key=key)


def _category(name: str) -> str:
    if name == "output.weight":
        return "output"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "token_embd"
    for part, cat in (("attn_qkv.weight", "attn_v"), ("attn_kv_b.weight", "attn_v"), ("attn_v.weight", "attn_v"),
                      ("attn_k.weight", "attn_k"), ("attn_q.weight", "attn_q"), ("attn_output.weight", "attn_output"),
                      ("ffn_up", "ffn_up"), ("ffn_gate", "ffn_gate"), ("ffn_down", "ffn_down")):
        if part in name:
            return cat
    return "other"


def allows_quantization(name: str, n_dims: int) -> bool:
    """tensor_allows_quantization, for the tensors a Qwen3 GGUF holds."""
    return n_dims >= 2 and name.endswith("weight") and "_norm.weight" not in name


def _use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _fallback(qtype: T, ncols: int) -> T:
    """tensor_type_fallback: a type whose blocks do not divide the row."""
    if ncols % BLOCK[qtype] == 0:
        return qtype
    new = FALLBACK.get(qtype, qtype)
    return new if ncols % BLOCK[new] == 0 else T.F16


def tensor_types(tensors: dict[str, tuple[int, ...]], ftype: F, n_layer: int, current: dict[str, T],
                 n_gqa: int = 1, has_imatrix: bool = False) -> dict[str, T]:
    """The type llama_model_quantize gives each tensor (name -> shape in numpy order, row last;
    `current` is each tensor's type in the intermediate GGUF; `n_gqa` = heads / KV heads)."""
    if ftype not in DIRECT_FTYPES:
        raise ConvertError(f"{ftype.name} is not quantized directly")
    default = DIRECT_FTYPES[ftype]
    names = loader_order(list(tensors))
    cats = {n: _category(n) for n in names}
    n_attention_wv = sum(1 for c in cats.values() if c == "attn_v")
    tied = "output.weight" not in tensors
    i_wv = i_down = 0
    out = {}
    for name in names:
        shape = tensors[name]
        if not allows_quantization(name, len(shape)):
            out[name] = current[name]
            continue
        cat, ncols, new = cats[name], shape[-1], default
        if cat == "output" or (tied and cat == "token_embd"):
            if ncols % BLOCK[new] != 0:
                new = T.Q8_0
            elif new != T.Q8_0:
                new = T.Q6_K
        elif cat == "token_embd":
            pass
        elif cat == "attn_v":  # in llama.cpp's order of tests
            if ftype == F.MOSTLY_Q2_K:
                new = T.Q4_K if n_gqa >= 4 else T.Q3_K
            elif ftype == F.MOSTLY_Q3_K_M:
                new = T.Q5_K if i_wv < 2 else T.Q4_K
            elif ftype == F.MOSTLY_Q3_K_L:
                new = T.Q5_K
            elif ftype == F.MOSTLY_IQ4_XS and n_gqa >= 4:
                new = T.Q5_K
            elif ftype in (F.MOSTLY_Q4_K_M, F.MOSTLY_Q5_K_M) and _use_more_bits(i_wv, n_attention_wv):
                new = T.Q6_K
            elif ftype == F.MOSTLY_Q4_K_S and i_wv < 4:
                new = T.Q5_K
            i_wv += 1
        elif cat == "ffn_down":
            i, n = i_down, n_layer
            if ftype == F.MOSTLY_Q2_K:
                new = T.Q3_K
            elif ftype == F.MOSTLY_Q3_K_M:
                new = T.Q5_K if i < n // 16 else T.Q4_K
            elif ftype == F.MOSTLY_Q3_K_L:
                new = T.Q5_K
            elif ftype == F.MOSTLY_Q4_K_M:
                if _use_more_bits(i, n):
                    new = T.Q6_K
            elif i < n // 8 and ftype == F.MOSTLY_IQ4_XS and not has_imatrix:
                new = T.Q5_K
            elif ftype == F.MOSTLY_Q5_K_M and _use_more_bits(i, n):
                new = T.Q6_K
            elif ftype == F.MOSTLY_Q4_K_S and i < n // 8:
                new = T.Q5_K
            elif ftype == F.MOSTLY_Q4_0 and has_imatrix and i < n // 8:
                new = T.Q4_1
            i_down += 1
        elif cat == "attn_output":
            new = {F.MOSTLY_Q2_K: T.Q3_K, F.MOSTLY_Q3_K_M: T.Q4_K, F.MOSTLY_Q3_K_L: T.Q5_K}.get(ftype, new)
        out[name] = _fallback(new, ncols)
    return out


# -- importance matrix (llama-imatrix's files) -------------------------------------------------------
def load_imatrix(path: Path) -> dict[str, np.ndarray]:
    """Per-column importance by tensor name, as llama.cpp's quantize tool computes it from a file
    `llama-imatrix` wrote: GGUF (``NAME.in_sum2`` / ``NAME.counts``) or the legacy .dat format."""
    path = Path(path)
    try:
        head = path.read_bytes()[:4]
    except OSError as e:
        raise ConvertError(f"Cannot read the importance matrix {path}: {e.strerror or e}") from None
    return _load_gguf_imatrix(path) if head == b"GGUF" else _load_legacy_imatrix(path)


def _load_gguf_imatrix(path: Path) -> dict[str, np.ndarray]:
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except (ValueError, OSError) as e:
        raise ConvertError(f"{path.name} is not a readable imatrix GGUF: {e}") from None
    sums, counts = {}, {}
    for t in reader.tensors:
        if t.name.endswith(".in_sum2"):
            sums[t.name[:-8]] = np.asarray(t.data, dtype=np.float32).reshape(-1)
        elif t.name.endswith(".counts"):
            counts[t.name[:-7]] = np.asarray(t.data, dtype=np.float32).reshape(-1)
    if not sums:
        raise ConvertError(f"{path.name} holds no importance data")
    out = {}
    for name, s in sums.items():
        c = counts.get(name)
        if c is None:
            raise ConvertError(f"{path.name}: mismatched sums and counts for {name}")
        ne0 = len(s) // len(c)
        e = np.ones_like(s)
        for j, count in enumerate(c):
            if count > 0:
                e[j * ne0:(j + 1) * ne0] = s[j * ne0:(j + 1) * ne0] / np.float32(count)
        out[name] = e
    return out


def _load_legacy_imatrix(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    bad = ConvertError(f"{path.name} is not an importance matrix file (llama-imatrix .dat or .gguf)")
    try:
        (n,), pos = struct.unpack_from("<i", raw, 0), 4
        if n < 1:
            raise bad
        out = {}
        for _ in range(n):
            (length,) = struct.unpack_from("<i", raw, pos)
            name = raw[pos + 4:pos + 4 + length].decode("utf-8")
            pos += 4 + length
            ncall, nval = struct.unpack_from("<ii", raw, pos)
            pos += 8
            if nval < 1:
                raise bad
            sums = np.frombuffer(raw, dtype="<f4", count=nval, offset=pos).astype(np.float32)
            pos += 4 * nval
            out[name] = sums / np.float32(ncall) if ncall > 0 else sums.copy()
        return out
    except (struct.error, ValueError, UnicodeDecodeError):
        raise bad from None
