/**
 * onnxruntime's usage telemetry stays off in our processes (src/core/runtime/onnxruntimeTelemetry.ts): a product run
 * through the runtime writes nothing under the home folder, while the same run with the user's ORT_DISABLE_TELEMETRY=0
 * shows what onnxruntime-node does by itself (a device id and an event store under ~/.cache/Microsoft/…).
 * The child runs without the CI variables, under which onnxruntime stays quiet on its own.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const linalg = path.join(__dirname, '..', '..', '..', 'src', 'core', 'runtime', 'linalg.js');
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE',
  'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI', 'ORT_RUNNING_UNIT_TESTS'];

function runGemm(extra: NodeJS.ProcessEnv): string[] {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-telemetry-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
    for (const name of [...CI_VARIABLES, 'XDG_CACHE_HOME', 'ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED']) if (!(name in extra)) delete env[name];
    const script = `const { OrtGemm } = require(${JSON.stringify(linalg)});
      new OrtGemm(1).gemm('float64', { data: new Float64Array(4), rows: 2, cols: 2 }, { data: new Float64Array(4), rows: 2, cols: 2 }).then(() => console.log('done'));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'done');
    return fs.readdirSync(home, { recursive: true }).map(String).sort();
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

test('a product through the runtime leaves no onnxruntime telemetry behind; the user may turn it back on', (t) => {
  assert.deepEqual(runGemm({}), []);
  const optedIn = runGemm({ ORT_DISABLE_TELEMETRY: '0' });
  if (optedIn.length === 0) t.diagnostic('this onnxruntime build wrote nothing even when allowed to (no telemetry in it)');
  else assert.ok(optedIn.some((file) => file.includes('.onnxruntime')), optedIn.join(', '));
});
