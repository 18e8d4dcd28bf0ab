"""The output types gazal-convert offers, with sizes and one-line quality notes.

Bits per weight for the llama.cpp mixes are typical effective values for a 7-32B
transformer (the mixes keep some tensors at higher precision); sizes computed from
them are estimates and are labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from gguf import GGMLQuantizationType as T
from gguf import LlamaFileType as F

from gazal_convert.errors import ConvertError


@dataclass(frozen=True)
class QuantType:
    name: str
    ftype: F
    bpw: float
    note: str
    # Written by gazal-convert itself (streamed from the checkpoint); otherwise made by
    # llama.cpp's quantizer from an intermediate GGUF.
    direct: bool = False
    # For direct types: the ggml type of 2-D weights.
    tensor_type: T | None = None
    # Quantized here from the checkpoint with ggml's own quantization and llama.cpp's
    # per-tensor rules (convert/direct_quant.py): no intermediate file.
    streamed: bool = False

    @property
    def label(self) -> str:
        return self.name.upper()


QUANT_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in [
        QuantType("f32", F.ALL_F32, 32.0, "exact copy of the weights in 32-bit float; reference only, very large", True, T.F32),
        QuantType("bf16", F.MOSTLY_BF16, 16.0, "lossless for bf16 checkpoints (a byte copy); needs a GPU/CPU with bf16 support to be fast", True, T.BF16),
        QuantType("f16", F.MOSTLY_F16, 16.0, "half precision; practically lossless, widest hardware support", True, T.F16),
        QuantType("q8_0", F.MOSTLY_Q8_0, 8.5, "near-lossless: KL divergence 0.0014, same top token as f16 97.7% (Llama-3-8B)", True, T.Q8_0),
        QuantType("q6_k", F.MOSTLY_Q6_K, 6.56, "very close to f16: KL divergence 0.0055, same top token 96.0% (Llama-3-8B)", streamed=True),
        QuantType("q5_k_m", F.MOSTLY_Q5_K_M, 5.69, "high quality: KL divergence 0.011 (Llama-3-8B)", streamed=True),
        QuantType("q5_k_s", F.MOSTLY_Q5_K_S, 5.54, "a little smaller than q5_k_m, a little worse", streamed=True),
        QuantType("q4_k_m", F.MOSTLY_Q4_K_M, 4.89, "recommended balance: +0.175 perplexity, KL divergence 0.031, same top token 91.9% (Llama-3-8B)", streamed=True),
        QuantType("q4_k_s", F.MOSTLY_Q4_K_S, 4.58, "smaller than q4_k_m with a measurable quality loss", streamed=True),
        QuantType("iq4_xs", F.MOSTLY_IQ4_XS, 4.25, "close to q4_k_s quality in less space; slower on some CPUs", streamed=True),
        QuantType("q4_0", F.MOSTLY_Q4_0, 4.55, "legacy 4-bit; prefer q4_k_m unless a runtime needs it", streamed=True),
        QuantType("q3_k_l", F.MOSTLY_Q3_K_L, 4.27, "3-bit mix with larger attention/output tensors; clear quality loss", streamed=True),
        QuantType("q3_k_m", F.MOSTLY_Q3_K_M, 3.91, "3-bit; noticeably worse reasoning, for machines that cannot fit 4-bit", streamed=True),
        QuantType("q3_k_s", F.MOSTLY_Q3_K_S, 3.5, "3-bit, smallest of the 3-bit mixes; large quality loss", streamed=True),
        QuantType("q2_k", F.MOSTLY_Q2_K, 3.35, "lowest quality offered; only when memory leaves no choice", streamed=True),
    ]
}

DEFAULT_QUANT = "q4_k_m"


def get_quant(name: str) -> QuantType:
    q = QUANT_TYPES.get(name.lower())
    if q is None:
        raise ConvertError(
            f"Unknown quantization type {name!r}. Choose one of: {', '.join(QUANT_TYPES)} "
            "(see gazal-convert --list-quants)"
        )
    return q


def intermediate_for(source_dtypes: set[str]) -> QuantType:
    """The lossless-enough GGUF the llama.cpp quantizer starts from.

    A bf16 checkpoint stays bf16 and an f16 one f16 (both byte copies); an f32 one goes
    to f16, as llama.cpp's own tools do, to halve the temporary disk use.
    """
    if source_dtypes == {"BF16"} or ("BF16" in source_dtypes and "F16" not in source_dtypes):
        return QUANT_TYPES["bf16"]
    return QUANT_TYPES["f16"]
