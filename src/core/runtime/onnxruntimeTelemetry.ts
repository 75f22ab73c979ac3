/**
 * @file Imported by ort.ts before onnxruntime-node: onnxruntime's own usage telemetry stays off unless the user
 * turned it on.
 *
 * Why: from 1.2x onnxruntime on Linux and macOS records usage events (sessions created, run counts) in a SQLite file
 * under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and uploads them to Microsoft on a later run; CI machines
 * are exempt (a `CI` variable). Spacetime Probe collects nothing and sends nothing, and researchers should not find
 * their editor reporting to a third party. It also costs every run: the events are written out at exit (~800 page
 * writes; the probe's exit 12–15 ms later, 2-core VM, 2026-12-03) and the file grows by ~100 kB a run.
 *
 * onnxruntime reads the variable when its environment is first created, which happens after this module runs.
 * `ORT_DISABLE_TELEMETRY` is the name onnxruntime-node 1.30 reads; `ORT_TELEMETRY_DISABLED` the one its newer
 * sources read. A value the user set (e.g. `ORT_DISABLE_TELEMETRY=0`) is kept.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
process.env.ORT_TELEMETRY_DISABLED ??= '1';

export {};
