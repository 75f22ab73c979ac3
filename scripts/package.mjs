// `npm run package [-- --target linux-x64[,win32-x64...]] [--out-dir dist] [--skip-build]`
// Builds the production bundles once, then one platform-specific .vsix per target with `vsce package --target`.
//
// The extension bundle keeps onnxruntime-node external (a native addon cannot be bundled), so each .vsix carries
// node_modules/onnxruntime-node + onnxruntime-common — but only the one platform's native binaries (25–86 MB
// each; all five together would be ~290 MB). .vscodeignore decides everything else (bundles, webview, media,
// built-in datasets, the built-in GloVe model under out/models/ that scripts/build.mjs produces); this script adds
// the per-target onnxruntime lines to a temporary copy of it and hands that to vsce with --ignoreFile.
//
// After packaging, every .vsix is listed from its own zip directory and checked: exactly one platform's
// onnxruntime binding, the right one, no source maps. The .vsix for this machine's platform is also unpacked and
// its onnxruntime-node required and its CLI run with Node, as an installed extension would be.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

/** vsce target → onnxruntime-node's binary folder (bin/napi-v6/<os>/<arch>). onnxruntime-node 1.30 ships these five. */
const ORT_TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

function parseArguments(argv) {
  const options = { targets: [], outDir: 'dist', build: true };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${argument} needs a value`);
      return argv[++i];
    };
    if (argument === '--target' || argument === '-t') options.targets.push(...value().split(','));
    else if (argument.startsWith('--target=')) options.targets.push(...argument.slice('--target='.length).split(','));
    else if (argument === '--out-dir') options.outDir = value();
    else if (argument === '--skip-build') options.build = false;
    else fail(`unknown argument ${argument}\nusage: npm run package -- [--target ${Object.keys(ORT_TARGETS).join('|')}[,...]] [--out-dir DIR] [--skip-build]`);
  }
  if (options.targets.length === 0) options.targets = Object.keys(ORT_TARGETS);
  for (const target of options.targets) {
    if (!(target in ORT_TARGETS)) {
      fail(`target ${target} is not one onnxruntime-node ${ortVersion()} has binaries for (${Object.keys(ORT_TARGETS).join(', ')})`);
    }
  }
  return options;
}

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(2);
}

function ortVersion() {
  return JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')).version;
}

function run(command, args, extraEnv = {}) {
  process.stdout.write(`$ ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) throw new Error(`${command} exited ${result.status ?? result.signal}`);
}

/** The runtime files of onnxruntime-node and its one runtime dependency, for one platform. */
function ortIncludeLines(target) {
  const binaries = `node_modules/onnxruntime-node/bin/napi-v6/${ORT_TARGETS[target]}`;
  if (!existsSync(binaries)) fail(`${binaries} is missing: is onnxruntime-node installed?`);
  return [
    '# --- added by scripts/package.mjs for ' + target,
    '!node_modules/onnxruntime-node/package.json',
    '!node_modules/onnxruntime-node/dist/*.js',
    `!${binaries}/*`,
    '!node_modules/onnxruntime-common/package.json',
    '!node_modules/onnxruntime-common/dist/cjs/package.json',
    '!node_modules/onnxruntime-common/dist/cjs/**/*.js',
  ];
}

// --- a minimal zip reader (central directory + stored/deflated entries), so checks need no unzip binary ---

function readZipEntries(file) {
  const zip = readFileSync(file);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error(`${file}: not a zip file`);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, method, compressedSize, size, localOffset });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  const contents = (entry) => {
    const local = entry.localOffset;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + entry.compressedSize);
    return entry.method === 0 ? data : inflateRawSync(data);
  };
  return { entries, contents };
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Largest contributors, grouped by folder (two levels below extension/), to say what dominates the size. */
function sizeReport(entries) {
  const groups = new Map();
  for (const entry of entries) {
    const parts = entry.name.replace(/^extension\//, '').split('/');
    const depth = parts[0] === 'node_modules' ? 6 : 3;
    const key = parts.length > 1 ? parts.slice(0, Math.min(parts.length - 1, depth)).join('/') : '(top level)';
    const group = groups.get(key) ?? { size: 0, compressed: 0, files: 0 };
    group.size += entry.size;
    group.compressed += entry.compressedSize;
    group.files += 1;
    groups.set(key, group);
  }
  return [...groups].sort((a, b) => b[1].compressed - a[1].compressed).slice(0, 8)
    .map(([key, group]) => `    ${megabytes(group.compressed).padStart(9)} compressed (${megabytes(group.size)} unpacked, ${group.files} files)  ${key}`);
}

function checkVsix(file, target) {
  const { entries, contents } = readZipEntries(file);
  const names = entries.map((entry) => entry.name);
  const problems = [];
  const bindings = names.filter((name) => name.endsWith('onnxruntime_binding.node'));
  const expected = `extension/node_modules/onnxruntime-node/bin/napi-v6/${ORT_TARGETS[target]}/onnxruntime_binding.node`;
  if (bindings.length !== 1 || bindings[0] !== expected) problems.push(`expected only ${expected}, found ${JSON.stringify(bindings)}`);
  for (const required of ['extension/package.json', 'extension/out/extension.js', 'extension/out/cli.js',
    'extension/out/probeWorker.js', 'extension/out/proximityWorker.js', 'extension/out/ridgeWorker.js', 'extension/out/datasetWorker.js', 'extension/out/experimentWorker.js',
    'extension/out/webview/main.js', 'extension/out/models/glove-100d/manifest.json', 'extension/data/builtin/index.json',
    'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js']) {
    if (!names.includes(required)) problems.push(`${required} is missing`);
  }
  const maps = names.filter((name) => name.endsWith('.map'));
  if (maps.length > 0) problems.push(`source maps included: ${maps.slice(0, 3).join(', ')}`);
  const manifest = contents(entries.find((entry) => entry.name === 'extension.vsixmanifest')).toString('utf8');
  if (!manifest.includes(`TargetPlatform="${target}"`)) problems.push(`manifest does not declare TargetPlatform="${target}"`);
  if (problems.length > 0) throw new Error(`${file} is wrong:\n  ${problems.join('\n  ')}`);
  return { entries, contents };
}

/** Unpack the host platform's .vsix and use it the way VS Code would: require onnxruntime-node, run the CLI. */
function smokeTestOnThisMachine(file, zip) {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'spacetime-vsix-'));
  try {
    for (const entry of zip.entries) {
      if (entry.name.endsWith('/')) continue;
      const destination = path.join(directory, entry.name);
      mkdirSync(path.dirname(destination), { recursive: true });
      writeFileSync(destination, zip.contents(entry));
    }
    const extension = path.join(directory, 'extension');
    const probe = spawnSync(process.execPath, ['-e', `
      const ort = require(${JSON.stringify(path.join(extension, 'node_modules', 'onnxruntime-node'))});
      const cpu = ort.listSupportedBackends().find((backend) => backend.name === 'cpu');
      if (!cpu || !cpu.bundled) throw new Error('cpu backend missing');
      console.log('onnxruntime-node ' + ort.env.versions.node + ' loads from the .vsix');`], { encoding: 'utf8' });
    const cli = spawnSync(process.execPath, [path.join(extension, 'out', 'cli.js'), '--version'], { encoding: 'utf8' });
    if (probe.status !== 0 || cli.status !== 0) {
      throw new Error(`${file} does not work when unpacked:\n${probe.stderr}${cli.stderr}`);
    }
    process.stdout.write(`  smoke test: ${probe.stdout.trim()}; out/cli.js --version → ${cli.stdout.trim()}\n`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));

  if (options.build) {
    // Minified bundles without source maps. Maps left by an earlier development build would still match
    // .vscodeignore's `out/webview/*`, so remove them first.
    for (const dir of ['out', 'out/webview']) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name.endsWith('.map')) rmSync(path.join(dir, name));
      }
    }
    run(process.execPath, ['scripts/build.mjs', '--production']);
  }

  const baseIgnore = readFileSync('.vscodeignore', 'utf8');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'spacetime-package-'));
  mkdirSync(options.outDir, { recursive: true });
  const hostTarget = `${process.platform}-${process.arch}`;
  const results = [];
  try {
    for (const target of options.targets) {
      const ignoreFile = path.join(workDir, `vscodeignore-${target}`);
      writeFileSync(ignoreFile, `${baseIgnore.trimEnd()}\n${ortIncludeLines(target).join('\n')}\n`);
      const out = path.join(options.outDir, `${manifest.name}-${target}-${manifest.version}.vsix`);
      rmSync(out, { force: true });
      // --allow-missing-repository: no public repository URL yet; without it vsce would stop and ask.
      // --no-rewrite-relative-links: the README's screenshots are relative and ship in the package (.vscodeignore);
      // with no repository to point them at, vsce would otherwise refuse to package.
      run(process.execPath, [path.join('node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target,
        '--ignoreFile', ignoreFile, '--out', out, '--allow-missing-repository', '--no-rewrite-relative-links']);
      let zip;
      try {
        zip = checkVsix(out, target);
      } catch (error) {
        rmSync(out, { force: true }); // a package that fails its checks is not left behind
        throw error;
      }
      const size = statSync(out).size;
      process.stdout.write(`\n${out}: ${megabytes(size)}, ${zip.entries.length} files; largest parts:\n${sizeReport(zip.entries).join('\n')}\n`);
      if (target === hostTarget) smokeTestOnThisMachine(out, zip);
      results.push({ target, out, size });
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(`\n${results.map(({ out, size }) => `${megabytes(size).padStart(9)}  ${out}`).join('\n')}\n`);
}

try {
  main();
} catch (error) {
  // Temporary folders are already removed (finally blocks); stale .vsix files are removed before each vsce run.
  process.stderr.write(`package: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
