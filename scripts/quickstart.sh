#!/usr/bin/env bash
# `npm run quickstart`: the README's first command. On a fresh clone it installs the dependencies, builds the
# extension (bundles + the built-in GloVe model), packages the .vsix for this machine's platform into dist/, and
# runs the main job headless: the built-in GloVe-100d model probed on the built-in world places, printing the
# layerwise table. Re-running skips what is already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# onnxruntime-node's postinstall downloads CUDA provider libraries (internet only); skip unless asked for.
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"

echo "== dependencies"
node scripts/setup-check-deps.mjs || npm ci --no-audit --no-fund

target="$(node -p 'process.platform + "-" + process.arch')"
echo "== package: dist/*-${target}.vsix (production build included)"
node scripts/package.mjs --target "$target"

echo "== main job: spacetime-probe run --dataset ${DATASET:-builtin:world_places} --model builtin:glove-100d"
node out/cli.js run --dataset "${DATASET:-builtin:world_places}" --model builtin:glove-100d --out "${OUT_DIR:-spacetime-probe-run}"
