#!/usr/bin/env bash
# Every GPU check in one call, for a lent NVIDIA machine (see shared/tools/gpu-kit):
#   DEADLINE=$(( $(date +%s) + 570 )) bash .gpu/gpu-run.sh bash benchmarks/gpu_run.sh
# 1. which loading path crashes, with the debugger's backtrace (benchmarks/gpu_probe.py),
#    while the Qwen3-32B-shaped model for the benchmark is built in the background;
#    2. tests/core and tests/convert on the CUDA build; 3. benchmarks/gpu_bench.py with what
#    time is left before DEADLINE (epoch seconds; default 560 s from now).
# Logs go to $OUT (probe.log, bench.log, tests.log).
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-$(mktemp -d)}
DEADLINE=${DEADLINE:-$(( $(date +%s) + 560 ))}
left() { echo $(( DEADLINE - $(date +%s) )); }
echo "$(left) s left after the build"
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader
python3 -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__, 'offload', llama_cpp.llama_supports_gpu_offload())"
mkdir -p /tmp/gazal-bench
python3 benchmarks/gpu_bench.py --workdir /tmp/gazal-bench --build-only > "$OUT/bench-build.log" 2>&1 &
builder=$!
# Which loading path crashes (fresh processes), and the debugger's backtrace of the crash.
timeout 60 python3 benchmarks/gpu_probe.py --workdir /tmp/gazal-probe --loaders-only \
  --backtrace-of "Llama(verbose=False)" 2>&1 | tee "$OUT/probe.log" | grep -v "^\[New Thread\|^\[Thread"
echo "== tests ($(left) s left)"
GAZAL_TEST_THREADS=4 timeout $(( $(left) > 160 ? 60 : 45 )) python3 -m pytest -q -p no:cacheprovider -n 8 \
  tests/core tests/convert > "$OUT/tests.log" 2>&1
echo "pytest exit $?"; grep -E "crashed|passed|failed|error" "$OUT/tests.log" | tail -12
wait $builder; tail -1 "$OUT/bench-build.log"
echo "== bench ($(left) s left)"
timeout $(( $(left) - 5 )) python3 benchmarks/gpu_bench.py --workdir /tmp/gazal-bench --tokens 128 --reps 2 2>&1 \
  | tee "$OUT/bench.log" | grep -v "^ggml_cuda_init\|^  Device"
