// Exit 0 when node_modules matches package-lock.json, 1 (with the reason) when `npm ci` is needed.
// Used by scripts/test.sh so a fresh clone bootstraps itself while a current checkout skips the reinstall.
// It compares every locked package's version with npm's own record of what it installed
// (node_modules/.package-lock.json) and checks the package folder is really there.
import { existsSync, readFileSync } from 'node:fs';

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function stale(reason) {
  process.stdout.write(`node_modules needs \`npm ci\`: ${reason}\n`);
  process.exit(1);
}

if (!existsSync('package-lock.json')) stale('package-lock.json is missing');
if (!existsSync('node_modules/.package-lock.json')) stale('node_modules is missing or was not installed by npm');

const locked = readJson('package-lock.json').packages ?? {};
const installed = readJson('node_modules/.package-lock.json').packages ?? {};
const problems = [];
for (const [location, meta] of Object.entries(locked)) {
  if (location === '' || !location.startsWith('node_modules/')) continue;
  const have = installed[location];
  const optional = Boolean(meta.optional || meta.devOptional);
  // Optional packages for other platforms (esbuild's, for instance) are legitimately absent.
  if (!have) {
    if (!optional) problems.push(`${location} is not installed`);
    continue;
  }
  if (!meta.link && have.version !== meta.version) problems.push(`${location} is ${have.version}, lock says ${meta.version}`);
  else if (!existsSync(`${location}/package.json`) && !meta.link) problems.push(`${location} folder is missing`);
}
if (problems.length > 0) {
  stale(`${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
}
