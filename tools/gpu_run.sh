#!/usr/bin/env bash
# The whole GPU session for convtranspose.cuda in one command, every step bounded in time.
#
#   OUT=/some/folder PYTHONPATH=src bash tools/gpu_run.sh
#
# Run from the repository root on a machine with an NVIDIA GPU. Writes under $OUT (default
# _build/gpu-run): one log per step (teed to the terminal), summary.txt (each step's exit
# status), benchmark-cuda.json (the benchmark's results: every forward variant checked against
# a float64 answer, then timed against cuDNN), tile-sweep.json (the coalesced kernel's tile
# table measured). Steps:
#   1. versions  Python, torch, Triton, CUDA, cuDNN, the GPU
#   2. tests     test_cuda.py, the operator's GPU tests and the CUDA implementations of the
#                shared suites, natively (--require-gpu), with a small hypothesis profile
#   3. benchmark python -m convtranspose.benchmark --device cuda (every variant, 3 precisions;
#                about 60 s on an H200)
#   4. sweep     a few tile configurations of the coalesced kernel on the channel-heavy shapes
# Each step's limit (seconds) can be changed: VERSIONS_S TESTS_S BENCH_S SWEEP_S
# (defaults 30, 240, 150, 90: at most about 8.5 minutes, Triton's compiles included);
# BENCH_ARGS adds flags to the benchmark (its flags may differ between versions); a step
# set to 0 seconds is skipped. The exit status is 1 if any step failed.
set -o pipefail

OUT=${OUT:-_build/gpu-run}
PY=${PYTHON:-python3}
export PYTHONPATH=${PYTHONPATH:-src}
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-gpu}
mkdir -p "$OUT"
: > "$OUT/summary.txt"
status=0

step() {  # step NAME LIMIT_S COMMAND...: run COMMAND under a timeout, log to $OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    if [ "$limit" = 0 ]; then
        echo "=== $name: skipped" | tee -a "$OUT/summary.txt"
        return
    fi
    echo "=== $name (at most ${limit} s): $*"
    local start=$SECONDS
    # SIGINT first: pytest then still prints its summary of failures
    timeout --signal=INT --kill-after=15 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
    local rc=$?
    echo "=== $name: exit $rc after $((SECONDS - start)) s" | tee -a "$OUT/summary.txt"
    [ "$rc" = 0 ] || status=1
}

step versions "${VERSIONS_S:-30}" bash -c "$PY tools/gpu_check.py --versions && (nvidia-smi || true)"
step tests "${TESTS_S:-240}" "$PY" -m pytest --require-gpu -q -rf --tb=short -p no:cacheprovider \
    tests/test_cuda.py tests/test_op.py tests/test_conv_transpose1d.py tests/test_bad_input.py \
    tests/test_nonfinite.py -k "cuda or gpu"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of flags
step benchmark "${BENCH_S:-150}" "$PY" -m convtranspose.benchmark --device cuda \
    --json "$OUT/benchmark-cuda.json" ${BENCH_ARGS:-}
step sweep "${SWEEP_S:-90}" "$PY" tools/gpu_check.py --sweep --json "$OUT/tile-sweep.json"

cat "$OUT/summary.txt"
exit $status
