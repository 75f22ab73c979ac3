/**
 * Timestamps along the edit → save → re-run → panel path (issue 19's "editor loop"), so the editor-loop benchmark
 * (test/integration/suite/editorLoop.bench.test.ts) can say where the time goes. Plain Node, no vscode import.
 *
 * Every mark is in epoch milliseconds with sub-millisecond precision (`performance.timeOrigin + performance.now()`),
 * the one clock the extension host, the probe worker (thread or child process) and the webview (a browser page on the
 * same machine) share, so marks from all of them can be put on one time line. A bounded ring: recording costs a
 * push, nothing is kept beyond the last MAX_MARKS.
 */

export interface TraceMark {
  /** What happened, e.g. "save", "worker:fit", "webview:chart drawn". */
  readonly phase: string;
  /** Epoch milliseconds (fractional). */
  readonly at: number;
}

const MAX_MARKS = 2000;

export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

export class EditorLoopTrace {
  private marks: TraceMark[] = [];

  mark(phase: string, at: number = traceNow()): void {
    this.marks.push({ phase, at });
    if (this.marks.length > MAX_MARKS) this.marks = this.marks.slice(-MAX_MARKS / 2);
  }

  /** Marks recorded elsewhere (the worker, the webview), each under `prefix:`. Non-finite times are dropped. */
  add(prefix: string, marks: readonly TraceMark[]): void {
    for (const mark of marks) if (Number.isFinite(mark.at)) this.mark(`${prefix}:${mark.phase}`, mark.at);
  }

  /** Marks at or after `from` (epoch ms), in time order. */
  since(from: number): TraceMark[] {
    return this.marks.filter((m) => m.at >= from).sort((a, b) => a.at - b.at);
  }
}

/** The marks as a table of milliseconds since `from`, with the step from the previous mark. */
export function formatTrace(marks: readonly TraceMark[], from: number): string {
  let previous = from;
  return marks.map((m) => {
    const line = `${(m.at - from).toFixed(0).padStart(6)} ms  (+${(m.at - previous).toFixed(0).padStart(5)})  ${m.phase}`;
    previous = m.at;
    return line;
  }).join('\n');
}
