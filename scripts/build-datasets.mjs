#!/usr/bin/env node
// Builds the six built-in datasets into data/builtin/ from pinned open sources (see DATASETS.md).
//
//   node scripts/build-datasets.mjs                 rebuild data/builtin/*.csv and data/builtin/index.json
//   node scripts/build-datasets.mjs --check         rebuild into a temporary folder and compare checksums with the
//                                                   committed files; exit 1 with a summary of what differs
//   node scripts/build-datasets.mjs --out DIR       write the build to DIR instead of data/builtin
//   node scripts/build-datasets.mjs --refresh-mta[=VERSION]
//                                                   re-extract the MTA GTFS stops (pinned version by default;
//                                                   "latest" once the pin is unpublished), then build
//   --against DIR  with --check: compare with DIR instead of data/builtin
//   --no-apt     fail instead of installing missing Debian packages (wordnet-base, calendar)
//   --only a,b   build only these datasets (with --out; never mixed into data/builtin)
//
// Exit codes: 0 success, 1 failure or --check mismatch, 2 bad arguments, 3 a Debian source cannot be installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAll, compareWithCommitted, writeBuild } from './build-datasets/build.mjs';
import { AptUnavailableError } from './build-datasets/sources.mjs';
import { MTA_PINNED_VERSION, refreshMtaExtract } from './build-datasets/mta.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builtinFolder = join(root, 'data', 'builtin');

async function main() {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: {
        check: { type: 'boolean', default: false },
        out: { type: 'string' },
        against: { type: 'string' },
        'refresh-mta': { type: 'string' },
        'no-apt': { type: 'boolean', default: false },
        only: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      args: process.argv.slice(2).map((arg) => (arg === '--refresh-mta' ? `--refresh-mta=${MTA_PINNED_VERSION}` : arg)),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`build-datasets: ${error.message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write('usage: node scripts/build-datasets.mjs [--check [--against DIR]] [--out DIR] [--refresh-mta[=VERSION]] [--no-apt] [--only a,b] [--quiet]\n');
    return 0;
  }
  if (options.only !== undefined && options.out === undefined && !options.check) {
    process.stderr.write('build-datasets: --only needs --out (a partial build never replaces data/builtin)\n');
    return 2;
  }
  const log = options.quiet ? () => {} : (message) => process.stderr.write(`build-datasets: ${message}\n`);
  if (options['refresh-mta'] !== undefined) refreshMtaExtract(root, options['refresh-mta'], log);

  const only = options.only?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const { files, manifest } = await buildAll({ root, allowApt: !options['no-apt'], log, only });

  if (options.check) {
    const folder = mkdtempSync(join(tmpdir(), 'spacetime-datasets-'));
    try {
      writeBuild(folder, files); // the rebuild as files, so a differing build can be inspected with --out
      const committedFolder = options.against === undefined ? builtinFolder : resolve(options.against);
      const differences = compareWithCommitted(committedFolder, files, manifest, { wholeManifest: only === undefined });
      if (differences.length > 0) {
        process.stdout.write(`built-in datasets differ from the committed build in ${committedFolder} (${differences.length}):\n${differences.join('\n')}\n`);
        process.stdout.write('If the upstream change is intended, run "node scripts/build-datasets.mjs" and commit data/builtin.\n');
        return 1;
      }
      process.stdout.write(`built-in datasets match the committed build: ${manifest.datasets.map((entry) => `${entry.name} ${entry.rows}`).join(', ')}\n`);
      return 0;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }
  const target = options.out === undefined ? builtinFolder : resolve(options.out);
  writeBuild(target, files);
  process.stdout.write(`wrote ${manifest.datasets.length} datasets to ${target}: ${manifest.datasets.map((entry) => `${entry.name} ${entry.rows}`).join(', ')}\n`);
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    process.stderr.write(`build-datasets: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof AptUnavailableError ? 3 : 1;
  },
);
