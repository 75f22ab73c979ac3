#!/usr/bin/env bash
# The device check: our extraction on a GPU vs PyTorch, in one command (docs/gpu.md).
#
#   bash bench/device-check/run.sh          # on the GPU machine (NVIDIA H100/H200, no network, root); needs .device-carry/
#   bash bench/device-check/run.sh --dry    # here: same pipeline on the CPU (small model, torch CPU, no system changes)
#
# Prepare first, here: bash bench/device-check/prepare.sh (Node, the bundled CLI, onnxruntime-node, Vulkan loader .debs).
# Steps (each time-limited, most telling first; a failed step is recorded and the rest still run; a step that would
# run past DC_DEADLINE is skipped):
#   1. unpack Node and the app from .device-carry; on the GPU machine also the Vulkan loader (dpkg -x into /, the
#      verified recipe) and VK_DRIVER_FILES → the NVIDIA ICD;
#   2. `spacetime-probe devices --json` (what can run, and why not);
#   3. torch_side.py prepare: GPT-2-small-shaped random model (transformers), dataset of placeholder-token prompts,
#      PyTorch reference activations, PyTorch CUDA timings (fp32, fp16; output_hidden_states), ONNX exports;
#   4. the CLI's extraction with --device webgpu (fp32 export), every layer compared with PyTorch (within 1e-3);
#   5. checkpointFamilies: every family's checkpoint fixture (test/fixtures/checkpoints) through our graph on the
#      device, float32 plain / float32 fused attention / the device default (float16), against the CPU tests' references;
#   6. a Llama-shaped bf16 checkpoint (grouped-query attention): PyTorch reference and timings, our extraction and
#      its error, ortBench tokens/s in float16 and float32 compute;
#   7. ortBench: tokens/s of our engine on the same batches as PyTorch, onnxruntime's per-node profile, tokenization;
#   8. probeProducts at 70B width (40,000 × 8,192 synthetic): the CPU's checked float32 fit, peak RSS;
#   9–10. the CLI with --variant fp16, --device cuda (expected to fail here: its provider libraries cannot be
#      downloaded without network), --device auto, --format safetensors; their layers vs PyTorch;
#   11. probeProducts: one float32 Gemm on the device vs the CPU, and a ridge fit whose float32 leave-one-out pass runs
#      on the device (float64 on the CPU), alpha compared with the CPU's float64 fit (docs/probes.md);
#   12. summarize.mjs → $OUT/device-check.json and $OUT/device-check.md (the card's name, every number).
# Exit 0 when the fp32 parity check passed on the intended device.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
HERE="$ROOT/bench/device-check"
DRY=0
[ "${1:-}" = "--dry" ] && DRY=1
OUT=${OUT:-$HERE/.out}
WORK=${DEVICE_CHECK_WORK:-/tmp/spacetime-device-check}
mkdir -p "$OUT"
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/status"
exec > >(tee "$OUT/device-check.log") 2>&1
STARTED=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - STARTED ))s] $*"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
# record NAME RC SECONDS: one line per step for summarize.mjs
record() { printf '{"step":"%s","rc":%s,"seconds":%s}\n' "$1" "$2" "$3" >>"$WORK/status/steps.jsonl"; }
# DC_STEPS=5,6 runs only those steps (1, unpacking, and 12, the summary, always run; 9 covers 9–10).
want() { [ -z "${DC_STEPS:-}" ] || [[ ",$DC_STEPS," == *",$1,"* ]]; }
# Every step's limit is cut to what is left of DC_DEADLINE seconds (default 540: the device tool's 600 s less the
# summary and transfers), so the summary always runs; a step with under 10 s left is skipped (rc 125).
DEADLINE=${DC_DEADLINE:-540}
extract() { # extract NAME LIMIT ARGS…   (EXTRACT_DATASET / EXTRACT_MODEL override the GPT-2 dataset and model)
  local name=$1 limit; limit=$(budget "$2"); shift 2
  if [ "$limit" -lt 10 ]; then echo "skipped extract $name: out of time"; record "extract-$name" 125 0; return; fi
  echo "--- extract $name: $*"
  local t0; t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$NODE" "$CLI" extract --dataset "${EXTRACT_DATASET:-$WORK/dataset.csv}" --model "${EXTRACT_MODEL:-$WORK/model}" --no-cache "$@" \
    2> >(tr '\r' '\n' | tee "$WORK/status/extract-$name.log" >&2)
  local rc=$?
  record "extract-$name" "$rc" "$(elapsed "$t0")"
  sleep 0.2
}
budget() { # budget LIMIT → the limit cut to the time left (less 15 s for the summary)
  local left=$(( DEADLINE - ( $(date +%s) - STARTED ) - 15 ))
  [ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}
timed() { # timed NAME LIMIT_SECONDS CMD… (stdout/stderr as the command leaves them)
  local name=$1 limit; limit=$(budget "$2"); shift 2
  if [ "$limit" -lt 10 ]; then echo "skipped $name: out of time"; record "$name" 125 0; return 125; fi
  local t0 rc; t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@"; rc=$?
  record "$name" "$rc" "$(elapsed "$t0")"
  return $rc
}

if [ $DRY = 1 ]; then
  DEVICE=cpu; TORCH_DEVICE=cpu; PYTHON=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}
  SHAPE=(--layers 4 --hidden 256 --heads 4 --vocab 50257)
  PREP=(--prompts "${DC_PROMPTS:-256}" --time-batches "${DC_BATCHES:-8,32}" --dtypes fp32 --export fp32 --runs 2 --repeats 2 --impl auto)
  BENCH=(--variants fp32 --batches "${DC_BATCHES:-8,32}" --runs 2 --repeats 2 --profile-batch 8)
else
  DEVICE=webgpu; TORCH_DEVICE=cuda; PYTHON=${PYTHON:-python3}
  SHAPE=(--layers 12 --hidden 768 --heads 12 --vocab 50257)
  PREP=(--prompts "${DC_PROMPTS:-4096}" --time-batches "${DC_BATCHES:-64,512,1024}" --dtypes "${DC_DTYPES:-fp32,fp16}" --export "${DC_EXPORTS:-fp32,fp16}" --impl auto)
  BENCH=(--variants fp32,fp16 --batches "${DC_BATCHES:-64,512,1024}" --runs 5 --repeats 3 --profile-batch 512)
fi
echo "device check: mode $([ $DRY = 1 ] && echo dry-cpu || echo gpu), device $DEVICE, torch device $TORCH_DEVICE, work $WORK, out $OUT"
echo "{\"dry\":$DRY,\"device\":\"$DEVICE\",\"torchDevice\":\"$TORCH_DEVICE\",\"started\":\"$(date -u +%FT%TZ)\",\"host\":\"$(hostname)\",\"cpus\":$(nproc)}" >"$WORK/status/run.json"

step "1. Node, app, Vulkan"
unxz_to() { # unxz_to SRC DEST
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else "$PYTHON" -c 'import lzma,sys,shutil; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}
CARRY="$ROOT/.device-carry"
if [ ! -d "$CARRY/app" ]; then echo "no .device-carry/app: run bash bench/device-check/prepare.sh first (on the development machine)"; exit 2; fi
if [ -f "$CARRY/node.xz" ]; then unxz_to "$CARRY/node.xz" "$WORK/bin/node" && chmod +x "$WORK/bin/node"; NODE="$WORK/bin/node"; else NODE=$(command -v node); fi
cp -r "$CARRY/app" "$WORK/app"
LIBDIR="$WORK/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
unxz_to "$LIBDIR/libonnxruntime.so.1.xz" "$LIBDIR/libonnxruntime.so.1" && rm -f "$LIBDIR"/*.xz "$LIBDIR"/*.sha256
CLI="$WORK/app/cli.js"
echo "node $("$NODE" --version) ($NODE); app $(du -sh "$WORK/app" | cut -f1)"
if [ $DRY = 0 ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$WORK/status/gpu.txt"
  if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
    echo "no Vulkan loader: unpacking the carried loader packages into /"
    for f in "$CARRY"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  # X11 client libraries only where the machine lacks them, from a private folder (never into /).
  mkdir -p "$WORK/x11" "$WORK/x11lib"
  for f in "$CARRY"/debs-x11/*.deb; do dpkg -x "$f" "$WORK/x11"; done
  for lib in "$WORK"/x11/usr/lib/x86_64-linux-gnu/*.so.* "$WORK"/x11/lib/x86_64-linux-gnu/*.so.*; do
    [ -L "$lib" ] || continue # the soname links (libX11.so.6 → libX11.so.6.4.0) are what the loader looks up
    name=$(basename "$lib")
    if ! ldconfig -p | grep -q "^[[:space:]]*$name "; then
      cp -P "$lib" "$WORK/x11lib/" && cp "$(dirname "$lib")/$(readlink "$lib")" "$WORK/x11lib/"
    fi
  done
  [ -n "$(ls -A "$WORK/x11lib")" ] && export LD_LIBRARY_PATH="$WORK/x11lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && echo "using carried X11 libraries: $(ls "$WORK/x11lib" | tr '\n' ' ')"
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; echo "VK_DRIVER_FILES=$icd"; break; fi
  done
  for egl in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
    [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl" && break
  done
  ldconfig -p | grep libvulkan.so.1 || echo "still no libvulkan.so.1"
fi
record unpack 0 0

if [ $DRY = 0 ] && want 2; then
  step "1b. onnxruntime's CUDA provider libraries on this machine (onnxruntime-node's are downloaded at install time)"
  timeout 40 find /usr/local /opt /usr/lib /lib -xdev \( -name 'libonnxruntime_providers_*.so*' -o -name 'libcudart.so.1[23]*' -o -name 'libcudnn.so.9*' \) 2>/dev/null \
    | grep -v "^$WORK" | head -20 | tee "$WORK/status/cuda-libraries.txt"
  timeout 30 "$PYTHON" -c 'import onnxruntime as o; print("python onnxruntime", o.__version__, o.get_available_providers())' 2>&1 \
    | tee -a "$WORK/status/cuda-libraries.txt"
  cp "$WORK/status/cuda-libraries.txt" "$OUT/" 2>/dev/null
fi

if want 2; then
  step "2. spacetime-probe devices"
  timed devices 60 "$NODE" "$CLI" devices --json >"$WORK/status/devices.json"
  cat "$WORK/status/devices.json"
fi

if want 3; then
  step "3. PyTorch: model, dataset, reference, timings, exports ($PYTHON)"
  export PYTHONUNBUFFERED=1
  timed torch 300 "$PYTHON" "$HERE/torch_side.py" prepare "$WORK" --device "$TORCH_DEVICE" "${SHAPE[@]}" "${PREP[@]}" \
    >"$WORK/status/torch.stdout"
  cp "$WORK/torch.json" "$OUT/torch.json" 2>/dev/null
  ls -la "$WORK/model/onnx" 2>/dev/null
fi

if want 4; then
  step "4. CLI extraction (fp32 export) and every layer vs PyTorch"
  extract fp32 120 --out "$WORK/acts-fp32" --device "$DEVICE" --variant fp32
  [ -d "$WORK/acts-fp32" ] && timed compare-fp32 120 "$PYTHON" "$HERE/torch_side.py" compare "$WORK/acts-fp32" "$WORK/reference" --tolerance 1e-3 \
    | tee "$WORK/status/compare-fp32.json"
  cp "$WORK/status/compare-fp32.json" "$OUT/" 2>/dev/null
fi

if want 5; then
  step "5. every architecture family's checkpoint fixture on $DEVICE (float32 plain, float32 fused, default)"
  timed families 150 "$NODE" "$WORK/app/checkpointFamilies.js" --device "$DEVICE" --fixtures "$ROOT/test/fixtures/checkpoints" \
    >"$WORK/status/families.json"
  cp "$WORK/status/families.json" "$OUT/" 2>/dev/null
fi

if want 6; then
  step "6. a Llama-shaped bf16 checkpoint (grouped-query attention): PyTorch reference and timings, our extraction"
  if [ $DRY = 1 ]; then
    LLAMA=(--layers 2 --hidden 256 --heads 4 --kv-heads 2 --vocab 1000 --prompts 128 --time-batches 8 --dtypes fp32 --runs 2 --repeats 1)
    LLAMA_BATCHES=8
  else
    LLAMA=(--layers "${DC_LLAMA_LAYERS:-8}" --hidden 2048 --heads 32 --kv-heads 8 --vocab 32000 --prompts 2048 --time-batches 64,512 --dtypes fp32,bf16)
    LLAMA_BATCHES=64,512
  fi
  timed torch-llama 180 "$PYTHON" "$HERE/torch_side.py" prepare "$WORK/llama" --device "$TORCH_DEVICE" --impl llama --save-dtype bf16 --export none \
    "${LLAMA[@]}" >"$WORK/status/torch-llama.stdout"
  cp "$WORK/llama/torch.json" "$OUT/torch-llama.json" 2>/dev/null
  if [ -f "$WORK/llama/model/model.safetensors" ]; then
    EXTRACT_DATASET="$WORK/llama/dataset.csv" EXTRACT_MODEL="$WORK/llama/model" extract llama 150 --out "$WORK/acts-llama" --device "$DEVICE" --format safetensors
    [ -d "$WORK/acts-llama" ] && timed compare-llama 60 "$PYTHON" "$HERE/torch_side.py" compare "$WORK/acts-llama" "$WORK/llama/reference" --tolerance 5e-2 \
      | tee "$WORK/status/compare-llama.json"
    timed ortbench-llama 150 "$NODE" "$WORK/app/ortBench.js" --model "$WORK/llama/model" --device "$DEVICE" --ids "$WORK/llama/timing_ids.json" \
      --variants safetensors,safetensors-fp32 --batches "$LLAMA_BATCHES" --runs 3 --repeats 2 \
      --profile-dir "$WORK/profile-llama" --profile-variant safetensors --profile-batch "${LLAMA_BATCHES##*,}" >"$WORK/status/ort-llama.json"
    cp "$WORK/status/ort-llama.json" "$OUT/" 2>/dev/null
  fi
fi

if want 7; then
  step "7. ortBench: tokens/s, profile, tokenization"
  VARIANTS=fp32; [ -f "$WORK/model/onnx/model_fp16.onnx" ] && VARIANTS=fp32,fp16
  [ -f "$WORK/model/model.safetensors" ] && VARIANTS=$VARIANTS,safetensors
  BENCH_ARGS=("${BENCH[@]}"); BENCH_ARGS[1]=$VARIANTS
  timed ortbench 240 "$NODE" "$WORK/app/ortBench.js" --model "$WORK/model" --device "$DEVICE" --ids "$WORK/timing_ids.json" "${BENCH_ARGS[@]}" \
    --profile-dir "$WORK/profile" --dataset "$WORK/dataset.csv" >"$WORK/status/ort.json"
  cp "$WORK/status/ort.json" "$OUT/ort.json"
fi

if want 8; then
  step "8. one 70B-sized layer: 40,000 × 8,192 synthetic, the CPU's checked float32 fit (DC_BIG_WAYS=f32,acc adds the device's products: 8x slower at d = 2,048 on 2026-12-04)"
  if [ $DRY = 1 ]; then BIG_ARGS=(--n 3000 --d 384); else BIG_ARGS=(--n "${DC_BIG_N:-40000}" --d "${DC_BIG_D:-8192}"); fi
  timed probe-70b-layer 200 "$NODE" "$WORK/app/probeProducts.js" --device "$DEVICE" "${BIG_ARGS[@]}" --gemm 0 --ways "${DC_BIG_WAYS:-f32}" \
    >"$WORK/status/probe-70b-layer.json"
  cp "$WORK/status/probe-70b-layer.json" "$OUT/" 2>/dev/null
fi

if want 9; then
  step "9. more CLI extractions (fp16 export, cuda, auto, the GPT-2 checkpoint)"
  if [ -f "$WORK/model/onnx/model_fp16.onnx" ]; then extract fp16 120 --out "$WORK/acts-fp16" --device "$DEVICE" --variant fp16; fi
  [ $DRY = 0 ] && extract cuda 60 --out "$WORK/acts-cuda" --device cuda --variant fp32
  extract auto 120 --out "$WORK/acts-auto" --device auto --variant fp32 --batch-size auto
  # The safetensors checkpoint (saved by the HF implementation) through our own graph, on the same device.
  if [ -f "$WORK/model/model.safetensors" ]; then extract safetensors 120 --out "$WORK/acts-safetensors" --device "$DEVICE" --format safetensors; fi
fi

if want 9; then
  step "10. their layers vs PyTorch (the checkpoint through our graph is float16 compute on a GPU)"
  [ -d "$WORK/acts-safetensors" ] && timed compare-safetensors 120 "$PYTHON" "$HERE/torch_side.py" compare "$WORK/acts-safetensors" "$WORK/reference" --tolerance 5e-2 \
    | tee "$WORK/status/compare-safetensors.json"
  [ -d "$WORK/acts-fp16" ] && timed compare-fp16 120 "$PYTHON" "$HERE/torch_side.py" compare "$WORK/acts-fp16" "$WORK/reference" --tolerance 5e-2 \
    | tee "$WORK/status/compare-fp16.json"
fi

if want 11; then
  step "11. probe products on the device (float32 leave-one-out pass, checked against the CPU's float64)"
  if [ $DRY = 1 ]; then PROBE_ARGS=(--n 4000 --d 512 --gemm 1024); else PROBE_ARGS=(--n "${DC_PROBE_N:-20000}" --d "${DC_PROBE_D:-2048}" --gemm 4096); fi
  timed probe-products 120 "$NODE" "$WORK/app/probeProducts.js" --device "$DEVICE" "${PROBE_ARGS[@]}" >"$WORK/status/probe-products.json"
  cp "$WORK/status/probe-products.json" "$OUT/probe-products.json" 2>/dev/null
  cat "$WORK/status/probe-products.json"
fi

step "12. summary"
"$NODE" "$HERE/summarize.mjs" "$WORK" "$OUT"
rc=$?
echo "device check finished in $(( $(date +%s) - STARTED ))s (exit $rc)"
exit $rc
