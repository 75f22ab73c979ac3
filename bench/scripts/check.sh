#!/usr/bin/env bash
# The hf-engine script against our own `extract` on the tiny checkpoints (test/fixtures/checkpoints/), float32
# on CPU: generate the script, run it with PYTHON (default /work/v/bin/python: torch + transformers), extract
# with our engine, compare within 1e-4 (bench/scripts/compare.py), and probe the script's folder.
#   bash bench/scripts/check.sh [fixture ...]      (default: every fixture; needs `npx tsc -p .` first)
# Prints one JSON line per fixture and prompt; exits 1 if any differs. Recorded in bench/scripts/check.json.
set -u
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/work/v/bin/python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spacetime-script-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if ! "$PYTHON" -c 'import torch, transformers, tokenizers, numpy, tqdm' 2>/dev/null; then
  echo "skipped: $PYTHON cannot import torch, transformers, tokenizers, numpy and tqdm" >&2; exit 0
fi
DATASET=test/fixtures/scripts/places.csv
fixtures=("$@")
[ ${#fixtures[@]} -eq 0 ] && fixtures=($(ls -d test/fixtures/checkpoints/*/ | xargs -n1 basename | grep -v '^_'))
status=0
for fixture in "${fixtures[@]}"; do
  model=$PWD/test/fixtures/checkpoints/$fixture
  for case in "entity-last|Where is {entity}?" "entity-last|{entity}n is a place" "prompt-last|The city of {entity}"; do
    token=${case%%|*}; prompt=${case#*|}; tag=$fixture-$RANDOM
    node out/src/cli/cli.js script --engine hf --model "$model" --dataset $DATASET --prompt "$prompt" --token "$token" --dtype float32 --out "$WORK/$tag-script" >/dev/null 2>&1 || { status=1; continue; }
    "$PYTHON" "$WORK/$tag-script/extract_activations.py" --out "$WORK/$tag-py" --device cpu >"$WORK/$tag.log" 2>&1 || { echo "{\"fixture\":\"$fixture\",\"error\":\"script failed\"}"; tail -3 "$WORK/$tag.log" >&2; status=1; continue; }
    node out/src/cli/cli.js extract --dataset $DATASET --model "$model" --prompt "$prompt" --token "$token" --device cpu --no-cache --out "$WORK/$tag-ours" >/dev/null 2>&1 || { status=1; continue; }
    result=$("$PYTHON" bench/scripts/compare.py "$WORK/$tag-ours" "$WORK/$tag-py") || status=1
    node out/src/cli/cli.js probe --activations "$WORK/$tag-py" --dataset $DATASET --out "$WORK/$tag-res" --bootstrap 0 >/dev/null 2>&1 && probe=accepted || { probe=refused; status=1; }
    echo "{\"fixture\":\"$fixture\",\"token\":\"$token\",\"prompt\":$("$PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$prompt"),\"probe\":\"$probe\",\"compare\":$result}"
  done
done
exit $status
