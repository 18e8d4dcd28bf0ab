"""What this machine has, what a GGUF needs, and how to load it.

The estimate adds up the GGUF's own tensors (per layer, so partial offload is exact), the
KV cache from its hyperparameters and KV type, and llama.cpp's compute buffer (a formula
checked against what llama.cpp reports in the tests). The verdict comes before loading:
"fits on GPU", "partial offload N of M layers", "CPU only" or "won't fit".
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gazal_convert.gguf_info import read_summary

GiB = 1024**3
MiB = 1024**2
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "f32": 4.0}
RAM_HEADROOM = 1 * GiB  # the OS, the app and the page cache need some too
VRAM_HEADROOM = 512 * MiB  # driver, display and fragmentation
# What the GPU runtime itself holds once llama.cpp has loaded a model and decoded: the CUDA
# context, cuBLAS workspace and graph buffers. Measured by benchmarks/gpu_bench.py (H100,
# CUDA 13): 435 MB more in use than the tensors, KV cache and compute buffer.
GPU_RUNTIME_BYTES = {"cuda": 448 * MiB, "other": 256 * MiB}
CTX_CANDIDATES = (131072, 65536, 32768, 16384, 8192, 4096, 2048)


# -- the machine -----------------------------------------------------------------------
@dataclass(frozen=True)
class Hardware:
    ram_total: int
    ram_available: int
    gpu_offload: bool  # this llama.cpp build can offload to a GPU
    gpu_name: str | None = None
    vram_total: int | None = None  # None: could not be read
    vram_free: int | None = None
    unified_memory: bool = False  # Apple silicon: the GPU uses system RAM
    runtime_bytes: int = 0  # the GPU runtime's own memory once a model runs (CUDA context, ...)

    def describe(self) -> str:
        ram = f"{self.ram_total / GiB:.0f} GB RAM ({self.ram_available / GiB:.1f} GB free)"
        if not self.gpu_offload:
            return ram + "; this llama.cpp build runs on the CPU only"
        if self.unified_memory:
            return ram + f"; GPU {self.gpu_name or 'Metal'} shares system memory"
        if self.vram_total is None:
            return ram + "; GPU offload available, GPU memory unknown"
        return ram + f"; GPU {self.gpu_name or ''} {self.vram_total / GiB:.0f} GB ({(self.vram_free or 0) / GiB:.1f} GB free)"


def _ram() -> tuple[int, int]:
    if sys.platform.startswith("linux"):
        info = {}
        with open("/proc/meminfo") as fh:
            for line in fh:
                k, v = line.split(":", 1)
                info[k] = int(v.split()[0]) * 1024
        return info["MemTotal"], info.get("MemAvailable", info.get("MemFree", 0))
    if sys.platform == "win32":
        class MEMORYSTATUSEX(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]
        st = MEMORYSTATUSEX()
        st.dwLength = ctypes.sizeof(st)
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(st))  # type: ignore[attr-defined]
        return st.ullTotalPhys, st.ullAvailPhys
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:  # macOS: free + inactive pages are available
        out = subprocess.run(["vm_stat"], capture_output=True, text=True, timeout=5).stdout
        page = int(re.search(r"page size of (\d+)", out).group(1))
        pages = sum(int(re.search(rf"{k}:\s+(\d+)", out).group(1)) for k in ("Pages free", "Pages inactive"))
        return total, pages * page
    except (OSError, AttributeError, subprocess.SubprocessError):
        return total, total // 2


def _nvidia() -> tuple[str, int, int] | None:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip().splitlines()
        name, total, free = (x.strip() for x in out[0].split(","))
        return name, int(total) * MiB, int(free) * MiB
    except (OSError, IndexError, ValueError, subprocess.SubprocessError):
        return None


def detect() -> Hardware:
    total, available = _ram()
    try:
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError):
        offload = False
    if not offload:
        return Hardware(total, available, False)
    if sys.platform == "darwin":
        return Hardware(total, available, True, "Apple GPU (Metal)", unified_memory=True)
    nv = _nvidia()
    if nv:
        return Hardware(total, available, True, nv[0], nv[1], nv[2], runtime_bytes=GPU_RUNTIME_BYTES["cuda"])
    return Hardware(total, available, True, runtime_bytes=GPU_RUNTIME_BYTES["other"])


@dataclass(frozen=True)
class LlamaBuild:
    """Which llama.cpp is inside: its version and the GPU backends it was built with."""

    version: str
    gpu_offload: bool
    backends: tuple[str, ...]  # e.g. ("CUDA",), ("Metal",), () for a CPU-only build

    def describe(self) -> str:
        kind = " + ".join(self.backends) if self.backends else ("GPU" if self.gpu_offload else "CPU only")
        return f"llama-cpp-python {self.version}, {kind} build (GPU offload {'yes' if self.gpu_offload else 'no'})"


GPU_BACKENDS = ("CUDA", "Metal", "Vulkan", "ROCm", "HIP", "SYCL", "OpenCL", "CANN", "MUSA")


def llama_build() -> LlamaBuild:
    """The llama.cpp build in this environment (shown in About and by --self-test)."""
    try:
        import llama_cpp
    except ImportError:
        return LlamaBuild("missing", False, ())
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    try:
        info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    except (AttributeError, OSError):
        info = ""
    found = tuple(b for b in GPU_BACKENDS if re.search(rf"\b{b}\b", info, re.IGNORECASE))
    return LlamaBuild(getattr(llama_cpp, "__version__", "?"), offload, found)


# -- the model -------------------------------------------------------------------------
class ModelFileError(ValueError):
    """A GGUF whose header the fit check cannot use, said in words."""


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate needs from a GGUF, read without loading it."""

    name: str
    n_layer: int
    n_ctx_train: int
    n_embd: int
    n_head: int
    n_head_kv: int
    key_length: int
    value_length: int
    n_ff: int
    n_vocab: int
    layer_bytes: tuple[int, ...]
    input_bytes: int  # token embedding: llama.cpp keeps it on the CPU
    output_bytes: int  # output norm + output head: on the GPU once every layer is
    tied: bool = False  # no output head: llama.cpp copies the embedding to the GPU for it

    @property
    def weights(self) -> int:
        return sum(self.layer_bytes) + self.input_bytes + self.output_bytes

    @classmethod
    def from_gguf(cls, path: str | Path) -> "ModelShape":
        """The shape the fit check needs, read from a GGUF's header. Missing, zero or
        out-of-range numbers raise :class:`ModelFileError` naming the field."""
        try:
            shape = cls._from_gguf(path)
        except KeyError as exc:
            raise ModelFileError(f"The model file lacks {exc.args[0]}, which every model of its kind has: "
                                 "it is damaged or was not written for llama.cpp.") from None
        except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
            raise ModelFileError(f"The model file's header has impossible values ({exc}): "
                                 "it is damaged or was not written for llama.cpp.") from None
        bad = [f for f in ("n_layer", "n_embd", "n_head", "n_head_kv", "n_ctx_train") if getattr(shape, f) <= 0]
        if bad:
            raise ModelFileError(f"The model file's header gives {', '.join(bad)} as zero or less: "
                                 "it is damaged or was not written for llama.cpp.")
        return shape

    @classmethod
    def _from_gguf(cls, path: str | Path) -> "ModelShape":
        import gguf

        summary = read_summary(path)
        a = summary.architecture
        meta = summary.metadata
        reader = gguf.GGUFReader(path)
        n_layer = int(meta[f"{a}.block_count"])
        layers = [0] * n_layer
        input_bytes = output_bytes = 0
        for t in reader.tensors:
            m = re.match(r"blk\.(\d+)\.", t.name)
            if m:
                layers[int(m.group(1))] += int(t.n_bytes)
            elif t.name.startswith("token_embd"):
                input_bytes += int(t.n_bytes)
            else:
                output_bytes += int(t.n_bytes)
        tied = "output.weight" not in {t.name for t in reader.tensors}
        n_head = int(meta[f"{a}.attention.head_count"])
        n_embd = int(meta[f"{a}.embedding_length"])
        head_dim = n_embd // n_head
        n_tokens = summary.n_tokens or int(meta.get(f"{a}.vocab_size", 0))
        return cls(
            name=str(meta.get("general.name", Path(path).stem)),
            n_layer=n_layer, n_ctx_train=int(meta.get(f"{a}.context_length", 4096)), n_embd=n_embd,
            n_head=n_head, n_head_kv=int(meta.get(f"{a}.attention.head_count_kv", n_head)),
            key_length=int(meta.get(f"{a}.attention.key_length", head_dim)),
            value_length=int(meta.get(f"{a}.attention.value_length", head_dim)),
            n_ff=int(meta.get(f"{a}.feed_forward_length", 4 * n_embd)), n_vocab=n_tokens,
            layer_bytes=tuple(layers), input_bytes=input_bytes,
            output_bytes=output_bytes, tied=tied,
        )


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int
    kv_cache: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def kv_bytes_per_layer(shape: ModelShape, n_ctx: int, kv_type: str = "f16") -> int:
    per = KV_BYTES[kv_type]
    return int(n_ctx * shape.n_head_kv * (shape.key_length * per + shape.value_length * per))


def compute_bytes(shape: ModelShape, n_ctx: int, flash_attn: bool = False, n_ubatch: int = 512) -> int:
    """llama.cpp's compute buffer for one micro-batch.

    FFN and embedding activations, plus the attention scores and mask, which grow with the
    context unless flash attention is on. (Only the last token's logits are computed.)
    """
    base = n_ubatch * 4 * (2 * shape.n_ff + 5 * shape.n_embd)
    attn = n_ctx * n_ubatch * (2 if flash_attn else 4 * shape.n_head + 4)
    return base + attn


def estimate(shape: ModelShape, n_ctx: int, kv_type: str = "f16", flash_attn: bool = False,
             n_ubatch: int = 512) -> MemoryEstimate:
    return MemoryEstimate(
        weights=shape.weights,
        kv_cache=kv_bytes_per_layer(shape, n_ctx, kv_type) * shape.n_layer,
        compute=compute_bytes(shape, n_ctx, flash_attn, n_ubatch),
    )


# -- the verdict -----------------------------------------------------------------------
@dataclass(frozen=True)
class Fit:
    verdict: str  # "fits on GPU" | "partial offload" | "CPU only" | "won't fit"
    n_gpu_layers: int  # -1: all
    n_ctx: int
    estimate: MemoryEstimate
    gpu_bytes: int = 0
    cpu_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self, n_layer: int) -> str:
        if self.verdict == "partial offload":
            head = f"partial offload: {self.n_gpu_layers} of {n_layer} layers on the GPU"
        else:
            head = self.verdict
        return f"{head} · context {self.n_ctx:,} tokens · needs ~{self.estimate.total / GiB:.1f} GB"


def _split(shape: ModelShape, layers_on_gpu: int, n_ctx: int, kv_type: str, flash_attn: bool) -> tuple[int, int]:
    """(GPU bytes, CPU bytes) with the last `layers_on_gpu` layers offloaded."""
    kv_layer = kv_bytes_per_layer(shape, n_ctx, kv_type)
    comp = compute_bytes(shape, n_ctx, flash_attn)
    gpu_layers = shape.layer_bytes[shape.n_layer - layers_on_gpu:] if layers_on_gpu else ()
    gpu = sum(gpu_layers) + kv_layer * layers_on_gpu
    cpu = shape.weights - sum(gpu_layers) + kv_layer * (shape.n_layer - layers_on_gpu)
    if layers_on_gpu == shape.n_layer:
        gpu += shape.output_bytes + (shape.input_bytes if shape.tied else 0)
        cpu -= shape.output_bytes
    if layers_on_gpu:
        gpu += comp
        cpu += compute_bytes(shape, 0, flash_attn) // 4  # host-side staging buffer
    else:
        cpu += comp
    return gpu, cpu


def recommend(shape: ModelShape, hw: Hardware, n_ctx: int | None = None, kv_type: str = "f16",
              flash_attn: bool | None = None) -> Fit:
    """The best way to load `shape` on `hw`: as many layers on the GPU as fit, at the
    largest context (up to the requested one) that fits somewhere.

    flash_attn None is llama.cpp's "auto", which turns it on for Qwen3 on every backend.
    On a discrete GPU the runtime's own memory (hw.runtime_bytes) counts as GPU use."""
    flash_attn = True if flash_attn is None else flash_attn
    ram = hw.ram_available - RAM_HEADROOM
    wanted = n_ctx or min(shape.n_ctx_train, 32768)
    candidates = [wanted] + [c for c in CTX_CANDIDATES if c < wanted]
    notes: list[str] = []
    for ctx in candidates:
        est = estimate(shape, ctx, kv_type, flash_attn)
        if hw.gpu_offload and hw.unified_memory:
            if est.total <= ram:
                return Fit("fits on GPU", -1, ctx, est, est.total, 0, notes)
            continue
        vram = (hw.vram_free if hw.vram_free is not None else None)
        if hw.gpu_offload and vram is not None:
            budget = vram - VRAM_HEADROOM
            best = None
            for n in range(shape.n_layer, 0, -1):
                gpu, cpu = _split(shape, n, ctx, kv_type, flash_attn)
                gpu += hw.runtime_bytes
                if gpu <= budget and cpu <= ram:
                    best = (n, gpu, cpu)
                    break
            if best and best[0] == shape.n_layer:
                return Fit("fits on GPU", -1, ctx, est, best[1], best[2], notes)
            if best:
                return Fit("partial offload", best[0], ctx, est, best[1], best[2], notes)
        gpu, cpu = _split(shape, 0, ctx, kv_type, flash_attn)
        if cpu <= ram:
            if hw.gpu_offload and hw.vram_total is None and not hw.unified_memory:
                notes.append("GPU memory could not be read; starting on the CPU. Raise GPU layers in Settings to try offloading.")
            if not hw.gpu_offload:
                notes.append("This llama.cpp build has no GPU support (see the README for CUDA/Metal/Vulkan builds).")
            return Fit("CPU only", 0, ctx, est, 0, cpu, notes)
    est = estimate(shape, candidates[-1], kv_type, flash_attn)
    notes.append(f"Needs about {est.total / GiB:.1f} GB even at {candidates[-1]:,} tokens of context; "
                 f"{max(ram, 0) / GiB:.1f} GB of RAM is free. Try a smaller quantization.")
    return Fit("won't fit", 0, candidates[-1], est, 0, est.total, notes)
