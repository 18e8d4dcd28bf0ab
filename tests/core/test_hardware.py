"""Memory estimates checked against llama.cpp itself, and the fit verdicts."""

from __future__ import annotations

import re

import pytest
from gazal_convert.llamalog import load_llama

from gazal_convert.llamalog import LlamaLog
from gazal_convert.synthetic import SyntheticSpec
from gazal_desktop.core import hardware
from gazal_desktop.core.hardware import GiB, Hardware, ModelShape, estimate, recommend
from testenv import THREADS

MiB = 1024**2
SHAPES = {
    "untied": SyntheticSpec(vocab_size=2048, n_layers=3, hidden=512, ffn=1536, n_head=8, n_head_kv=4),
    "tied": SyntheticSpec(vocab_size=2048, n_layers=2, hidden=256, ffn=768, n_head=4, n_head_kv=2, tied=True),
}


def _llama_reports(path, n_ctx, flash_attn, kv_type):
    kv = {"f16": 1, "q8_0": 8}[kv_type]
    with LlamaLog(keep=100_000) as log:
        llm = load_llama(str(path), n_ctx=n_ctx, flash_attn=flash_attn, type_k=kv, type_v=kv,
                    n_threads=THREADS)
    llm.close()
    sizes = {}
    for line in log.lines:
        m = re.search(r"(model|KV|compute) buffer size =\s+([\d.]+) MiB", line)
        if m:
            sizes[m.group(1)] = sizes.get(m.group(1), 0) + float(m.group(2)) * MiB
    return sizes


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("n_ctx,flash_attn,kv_type", [(512, False, "f16"), (4096, False, "f16"), (4096, True, "q8_0")])
def test_estimate_matches_what_llama_cpp_allocates(models, name, n_ctx, flash_attn, kv_type):
    path = models.gguf(SHAPES[name], "q8_0")
    shape = ModelShape.from_gguf(path)
    est = estimate(shape, n_ctx, kv_type, flash_attn)
    got = _llama_reports(path, n_ctx, flash_attn, kv_type)
    assert est.weights == pytest.approx(got["model"], rel=0.01)
    assert est.kv_cache == pytest.approx(got["KV"], rel=0.01)
    real_total = got["model"] + got["KV"] + got["compute"]
    assert est.total == pytest.approx(real_total, rel=0.10)


def test_shape_is_read_from_the_gguf(models):
    spec = SHAPES["untied"]
    shape = ModelShape.from_gguf(models.gguf(spec, "q8_0"))
    assert (shape.n_layer, shape.n_embd, shape.n_head, shape.n_head_kv, shape.key_length) == (3, 512, 8, 4, 128)
    assert shape.n_vocab == 2048 and shape.n_ctx_train == spec.max_positions and not shape.tied
    assert len(shape.layer_bytes) == 3 and all(b > 0 for b in shape.layer_bytes)


# Qwen3-32B at q4_k_m: 64 layers of ~290 MiB, 151936-token vocabulary.
QWEN3_32B_Q4 = ModelShape(
    name="Gazal-R1-32B Q4_K_M", n_layer=64, n_ctx_train=40960, n_embd=5120, n_head=64, n_head_kv=8,
    key_length=128, value_length=128, n_ff=25600, n_vocab=151936,
    layer_bytes=(int(290 * MiB),) * 64, input_bytes=int(425 * MiB), output_bytes=int(610 * MiB),
)


def _hw(ram_gb, vram_gb=None, offload=True, unified=False):
    return Hardware(int(ram_gb * GiB), int(ram_gb * GiB), offload,
                    "Test GPU" if vram_gb else None,
                    int(vram_gb * GiB) if vram_gb else None, int(vram_gb * GiB) if vram_gb else None, unified)


def test_big_gpu_fits_everything():
    fit = recommend(QWEN3_32B_Q4, _hw(64, 80), n_ctx=32768)
    assert fit.verdict == "fits on GPU" and fit.n_gpu_layers == -1 and fit.n_ctx == 32768
    assert fit.describe(64).startswith("fits on GPU · context 32,768 tokens")


def test_24_gb_gpu_offloads_part_of_the_layers():
    # At 8k tokens the whole Q4_K_M model fits a 24 GB card; at 32k the KV cache does not.
    assert recommend(QWEN3_32B_Q4, _hw(64, 24), n_ctx=8192).verdict == "fits on GPU"
    fit = recommend(QWEN3_32B_Q4, _hw(64, 24), n_ctx=32768)
    assert fit.verdict == "partial offload" and 30 < fit.n_gpu_layers < 64 and fit.n_ctx == 32768
    assert fit.gpu_bytes <= 24 * GiB - hardware.VRAM_HEADROOM
    assert f"{fit.n_gpu_layers} of 64 layers" in fit.describe(64)


def test_no_gpu_runs_on_cpu_when_ram_allows():
    fit = recommend(QWEN3_32B_Q4, _hw(48, offload=False), n_ctx=8192)
    assert fit.verdict == "CPU only" and fit.n_gpu_layers == 0 and fit.n_ctx == 8192
    assert any("no GPU support" in n for n in fit.notes)


def test_context_shrinks_before_giving_up():
    # 22 GB free: the weights fit, a 32k-token KV cache does not.
    fit = recommend(QWEN3_32B_Q4, _hw(23, offload=False), n_ctx=32768)
    assert fit.verdict == "CPU only" and fit.n_ctx < 32768


def test_too_small_a_machine_wont_fit():
    fit = recommend(QWEN3_32B_Q4, _hw(16, offload=False))
    assert fit.verdict == "won't fit" and "smaller quantization" in fit.notes[-1]


def test_apple_silicon_uses_unified_memory():
    fit = recommend(QWEN3_32B_Q4, _hw(36, unified=True), n_ctx=8192)
    assert fit.verdict == "fits on GPU" and fit.n_gpu_layers == -1


def test_this_machine_is_detected():
    hw = hardware.detect()
    assert hw.ram_total > 0 and 0 < hw.ram_available <= hw.ram_total
    assert isinstance(hw.gpu_offload, bool) and "RAM" in hw.describe()


def test_the_gpu_runtime_memory_counts_against_the_card():
    """On an H100 with CUDA 13, 435 MB more was in use than tensors + KV + compute: a model
    that fills the card to within that margin must not be called a full fit."""
    plain = _hw(64, 24)
    cuda = Hardware(plain.ram_total, plain.ram_available, True, "Test GPU", plain.vram_total, plain.vram_free,
                    runtime_bytes=hardware.GPU_RUNTIME_BYTES["cuda"])
    without = recommend(QWEN3_32B_Q4, plain, n_ctx=32768)
    with_runtime = recommend(QWEN3_32B_Q4, cuda, n_ctx=32768)
    assert with_runtime.gpu_bytes <= 24 * GiB - hardware.VRAM_HEADROOM
    assert with_runtime.n_gpu_layers < without.n_gpu_layers  # the runtime's share costs layers
    small = recommend(QWEN3_32B_Q4, cuda, n_ctx=8192)
    assert small.verdict == "fits on GPU"
    assert small.gpu_bytes >= hardware.GPU_RUNTIME_BYTES["cuda"] + sum(QWEN3_32B_Q4.layer_bytes)


def test_flash_attention_defaults_to_llama_cpp_auto():
    """No choice made: llama.cpp's "auto" (on where the device supports it), and the estimate
    assumes it on, so the attention scores are not budgeted at full size."""
    from gazal_desktop.core.backends.local import LocalSettings

    assert LocalSettings().flash_attn is None
    auto = recommend(QWEN3_32B_Q4, _hw(64, 80), n_ctx=32768)
    off = recommend(QWEN3_32B_Q4, _hw(64, 80), n_ctx=32768, flash_attn=False)
    assert auto.gpu_bytes < off.gpu_bytes


def test_llama_build_names_what_is_inside():
    import llama_cpp

    build = hardware.llama_build()
    assert build.gpu_offload == bool(llama_cpp.llama_supports_gpu_offload())
    assert build.version == llama_cpp.__version__ and build.version in build.describe()
    assert ("GPU offload yes" in build.describe()) == build.gpu_offload


def _gguf_with(path, **numbers):
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "qwen3")
    w.add_name("Damaged")
    for key, value in numbers.items():
        w.add_uint32(f"qwen3.{key}", value)
    w.add_tensor("token_embd.weight", np.zeros((8, 16), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.mark.parametrize("numbers, said", [
    (dict(embedding_length=16, **{"attention.head_count": 2}), "lacks qwen3.block_count"),
    (dict(block_count=2, embedding_length=16, **{"attention.head_count": 0}), "impossible values"),
    (dict(block_count=0, embedding_length=16, **{"attention.head_count": 2}), "n_layer"),
])
def test_a_model_header_with_missing_or_zero_numbers_is_said_in_words(tmp_path, numbers, said):
    path = _gguf_with(tmp_path / "damaged.gguf", **numbers)
    with pytest.raises(hardware.ModelFileError) as err:
        hardware.ModelShape.from_gguf(path)
    assert said in str(err.value) and "damaged" in str(err.value)
