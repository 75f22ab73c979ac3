/**
 * @file Mocha entry point that the extension host loads (`extensionTestsPath`). It runs every `*.test.js`
 * compiled next to it (subfolders included), so adding an integration test means adding a `*.test.ts` file here.
 *
 * It prints and writes (SPACETIME_TEST_SUMMARY) the counts, because on the offline route the host's console
 * reaches the terminal interleaved with driver output; scripts/test.sh reads the file for the final summary line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export interface SuiteSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

function findTestFiles(directory: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      found.push(...findTestFiles(full));
    } else if (entry.isFile() && entry.name.endsWith('.test.js')) {
      found.push(full);
    }
  }
  return found.sort();
}

function writeSummary(summary: SuiteSummary): void {
  const file = process.env.SPACETIME_TEST_SUMMARY;
  if (!file) {
    return;
  }
  // Temp file + rename: a reader never sees half a summary.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(summary));
  fs.renameSync(temporary, file);
}

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    reporter: 'spec',
    // Generous: some tests load models or drive the browser through the palette (seconds on a shared 2-core box).
    timeout: Number(process.env.SPACETIME_MOCHA_TIMEOUT_MS ?? 120_000),
    slow: 10_000,
  });
  const grep = process.env.SPACETIME_TEST_GREP;
  if (grep) {
    mocha.grep(grep);
  }
  for (const file of findTestFiles(__dirname)) {
    mocha.addFile(file);
  }
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    try {
      const runner = mocha.run((failures) => {
        const summary = { passed, failed: Math.max(failed, failures), skipped };
        writeSummary(summary);
        console.log(`${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
        if (summary.failed > 0) {
          reject(new Error(`${summary.failed} integration test(s) failed`));
        } else {
          resolve();
        }
      });
      runner.on('pass', () => passed++);
      runner.on('fail', () => failed++);
      runner.on('pending', () => skipped++);
    } catch (error) {
      writeSummary({ passed, failed: failed + 1, skipped });
      reject(error);
    }
  });
}
