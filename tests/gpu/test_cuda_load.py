"""GPU builds only: the tiny test model loads through every path the app uses.

On a CUDA build of llama-cpp-python 0.3.36 (H100, CUDA 13) the app's own loader
(LocalBackend.load, then with a per-call ctypes log callback) crashed inside llama.cpp's model
load with SIGSEGV on the tests' tiny models, while llama-cpp-python's plain Llama(...) loaded
the same file (benchmarks/gpu_probe.py). Each load runs in its own process so a crash is a
failed test, not a dead test run. Skipped on a build without GPU offload (CI has none).
"""

from __future__ import annotations

import subprocess
import sys

import llama_cpp
import pytest

pytestmark = pytest.mark.skipif(not llama_cpp.llama_supports_gpu_offload(),
                                reason="needs a GPU build of llama-cpp-python (CI has no GPU)")

LOADERS = {
    "llama-cpp-python": "from llama_cpp import Llama; Llama(model_path=path, n_ctx=256, n_gpu_layers={ngl}, verbose=False)",
    "load_llama": "from gazal_convert.llamalog import load_llama; load_llama(path, n_ctx=256, n_gpu_layers={ngl})",
    "LlamaLog + load_llama": ("from gazal_convert.llamalog import LlamaLog, load_llama\n"
                              "with LlamaLog(keep=100_000) as log: load_llama(path, n_ctx=256, n_gpu_layers={ngl})\n"
                              "assert any('n_layer' in l for l in log.lines)"),
    "LocalBackend.load": ("from gazal_desktop.core.backends.local import LocalBackend, LocalSettings\n"
                          "b = LocalBackend.load(path, LocalSettings(n_ctx=256, n_gpu_layers={ngl}))\n"
                          "from gazal_desktop.core.sampling import Sampling\n"
                          "events = list(b.stream([{{'role': 'user', 'content': 'Hi'}}], Sampling(max_tokens=4)))\n"
                          "assert events[-1].reason in ('stop', 'length'), events[-1]"),
}


@pytest.mark.parametrize("ngl", [0, -1], ids=["cpu-layers", "gpu-layers"])
@pytest.mark.parametrize("loader", list(LOADERS))
def test_tiny_model_loads_on_a_gpu_build(tiny_gguf, loader, ngl):
    code = "import faulthandler, sys; faulthandler.enable(); path = sys.argv[1]\n" + LOADERS[loader].format(ngl=ngl)
    res = subprocess.run([sys.executable, "-c", code, str(tiny_gguf)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{loader} exited with {res.returncode}:\n{res.stderr[-3000:]}"
