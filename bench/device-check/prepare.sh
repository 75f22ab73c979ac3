#!/usr/bin/env bash
# Prepare .device-carry/ (git-ignored) for the device check on a GPU machine that has no network and maybe no Node:
#
#   bash bench/device-check/prepare.sh          # here, on the development machine (x86-64, Debian, npm + apt)
#
# Contents (compressed where it pays; the device tool carries at most 64 MiB together with the working tree):
#   node.xz                  this machine's Node 20 binary (official build: needs only glibc)
#   app/cli.js               the bundled CLI (node scripts/build.mjs), everything but onnxruntime-node inlined
#   app/ortBench.js          bench/device-check/ortBench.ts, bundled the same way
#   app/probeProducts.js     bench/device-check/probeProducts.ts (the probe's float32 products on the device), the same way
#   app/checkpointFamilies.js bench/device-check/checkpointFamilies.ts (every family's checkpoint fixture on the device)
#   app/node_modules/        onnxruntime-node (linux-x64 binding only; libonnxruntime.so.1 as .xz) + onnxruntime-common
#   debs/*.deb               Vulkan/GL loader packages (libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2),
#                            unpacked into / there (the recipe that ran WebGPU on H100/H200 machines)
#   debs-x11/*.deb           X11 client libraries the NVIDIA ICD may need; run.sh only uses a library from these when
#                            the machine lacks it, from a private folder (never unpacked into /)
#   MANIFEST.json            versions, sizes, commit
# Compressed files are rebuilt only when their source changed (a .sha256 next to each).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
CARRY="$ROOT/.device-carry"
APP="$CARRY/app"
ORT_SRC="$ROOT/node_modules/onnxruntime-node"
COMMON_SRC="$ROOT/node_modules/onnxruntime-common"
LIMIT_BYTES=$((64 * 1024 * 1024))

[ "$(uname -m)" = x86_64 ] || { echo "prepare.sh: the GPU machine is x86-64; run this on an x86-64 machine" >&2; exit 1; }
grep -qx '/.device-carry/' .gitignore || { echo "prepare.sh: add /.device-carry/ to .gitignore first" >&2; exit 1; }

# xz a file into DEST unless DEST.sha256 already records the source's hash.
compress() {
  local source=$1 dest=$2 sum
  sum=$(sha256sum "$source" | cut -d' ' -f1)
  if [ -f "$dest" ] && [ "$(cat "$dest.sha256" 2>/dev/null)" = "$sum" ]; then return; fi
  echo "compressing $source → $dest" >&2
  xz -T0 -6 -c "$source" >"$dest.tmp"
  mv "$dest.tmp" "$dest"
  echo "$sum" >"$dest.sha256"
}

mkdir -p "$CARRY" "$APP"
echo "building out/cli.js …" >&2
node scripts/build.mjs >/dev/null
npx esbuild bench/device-check/ortBench.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:onnxruntime-node --log-level=warning --outfile="$APP/ortBench.js"
npx esbuild bench/device-check/probeProducts.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:onnxruntime-node --log-level=warning --outfile="$APP/probeProducts.js"
npx esbuild bench/device-check/checkpointFamilies.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:onnxruntime-node --log-level=warning --outfile="$APP/checkpointFamilies.js"
cp out/cli.js "$APP/cli.js"

# onnxruntime-node: JS + the linux-x64 binding only (the package holds all five platforms: 288 MB).
rm -rf "$APP/node_modules.tmp"
mkdir -p "$APP/node_modules.tmp/onnxruntime-node/bin/napi-v6/linux/x64" "$APP/node_modules.tmp/onnxruntime-common"
cp -r "$ORT_SRC/package.json" "$ORT_SRC/dist" "$APP/node_modules.tmp/onnxruntime-node/"
cp "$ORT_SRC/bin/napi-v6/linux/x64/onnxruntime_binding.node" "$APP/node_modules.tmp/onnxruntime-node/bin/napi-v6/linux/x64/"
cp -r "$COMMON_SRC/package.json" "$COMMON_SRC/dist" "$APP/node_modules.tmp/onnxruntime-common/"
rm -rf "$APP/node_modules.tmp/onnxruntime-common/dist/esm" "$APP/node_modules.tmp/onnxruntime-common/dist/"*.map
find "$APP/node_modules.tmp" -name '*.map' -delete
if [ -f "$APP/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz" ]; then
  cp "$APP/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz"* "$APP/node_modules.tmp/onnxruntime-node/bin/napi-v6/linux/x64/"
fi
rm -rf "$APP/node_modules"
mv "$APP/node_modules.tmp" "$APP/node_modules"
compress "$ORT_SRC/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$APP/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz"

NODE_BIN=$(readlink -f "$(command -v node)")
case "$(node --version)" in v20.*|v22.*) ;; *) echo "prepare.sh: expected Node 20 or 22, got $(node --version)" >&2; exit 1 ;; esac
compress "$NODE_BIN" "$CARRY/node.xz"

# Vulkan/GL loaders and X11 client libraries (Debian amd64 packages, fetched with a private package list).
fetch_debs() {
  local folder=$1; shift
  mkdir -p "$folder"
  local missing=()
  for name in "$@"; do ls "$folder/${name}_"*.deb >/dev/null 2>&1 || missing+=("$name"); done
  [ ${#missing[@]} -eq 0 ] && return
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-device-carry)
  mkdir -p /tmp/amd64-device-carry/partial
  if [ ! -f /tmp/amd64-device-carry/.updated ]; then
    flock /tmp/spacetime-apt.lock apt-get "${o[@]}" update -qq && touch /tmp/amd64-device-carry/.updated
  fi
  (cd "$folder" && flock /tmp/spacetime-apt.lock apt-get "${o[@]}" download -qq "${missing[@]}")
}
fetch_debs "$CARRY/debs" libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2
fetch_debs "$CARRY/debs-x11" libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libx11-xcb1 libxext6

carry_bytes=$(du -sb "$CARRY" | cut -f1)
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((carry_bytes + tree_bytes))
node -e '
  const [carry, tree, total, limit, commit, ort] = process.argv.slice(1);
  const fs = require("fs");
  const manifest = { prepared: new Date().toISOString(), commit, node: process.version, onnxruntimeNode: ort,
    carryBytes: +carry, workingTreeBytes: +tree, totalBytes: +total, limitBytes: +limit };
  fs.writeFileSync(".device-carry/MANIFEST.json", JSON.stringify(manifest, null, 1) + "\n");
  console.log(JSON.stringify(manifest));
' "$carry_bytes" "$tree_bytes" "$total" "$LIMIT_BYTES" "$(git rev-parse --short HEAD)" "$(node -p 'require("./node_modules/onnxruntime-node/package.json").version')"
if [ "$total" -gt $((LIMIT_BYTES - 2 * 1024 * 1024)) ]; then
  echo "prepare.sh: .device-carry ($carry_bytes bytes) + working tree ($tree_bytes) is over the 64 MiB carry limit (less 2 MiB slack)" >&2
  exit 1
fi
echo "ready: .device-carry is $((carry_bytes / 1024 / 1024)) MiB, with the working tree $((total / 1024 / 1024)) MiB of 64" >&2
