/** Terminal output helpers shared by the CLI commands: aligned tables and a progress line on stderr. */
import type { CliIo } from './command';
import { escapeControlChars } from '../core/util/controlChars';

/** Key of the unescaped write on a stream wrapped by escapingIo (only for our own terminal control sequences). */
export const RAW_WRITE = Symbol.for('spacetime-probe.rawWrite');

/** `stream` with every string written through escapeControlChars; RAW_WRITE writes unchanged. */
export function escapingStream(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  if ((stream as unknown as Record<symbol, unknown>)[RAW_WRITE]) return stream;
  return new Proxy(stream, {
    get(target, property) {
      if (property === RAW_WRITE) return (text: string) => target.write(text);
      if (property === 'write') {
        return (chunk: unknown, ...rest: unknown[]) => (target.write as (...args: unknown[]) => boolean)(typeof chunk === 'string' ? escapeControlChars(chunk) : chunk, ...rest);
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The CLI's streams with control characters escaped in everything printed (issue: terminal escape injection). */
export function escapingIo(io: CliIo): CliIo {
  return { ...io, stdout: escapingStream(io.stdout), stderr: escapingStream(io.stderr) };
}

/** Write our own control sequence (progress redraw): unescaped when the stream is an escaping one. */
function writeControl(stream: NodeJS.WritableStream, text: string): void {
  const raw = (stream as unknown as Record<symbol, ((text: string) => void) | undefined>)[RAW_WRITE];
  if (raw) raw(text);
  else stream.write(text);
}

/** Rows of a plain-text table, columns padded to their widest cell (the last column is not padded). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('left' | 'right')[] = []): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells
    .map((cell, column) => (align[column] === 'right' ? cell.padStart(widths[column]) : column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
    .join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}

/**
 * A progress line on stderr: redrawn in place on a terminal (at most ~10 times a second), one line per stage
 * change otherwise, so logs of headless runs stay short.
 */
export class ProgressLine {
  private lastDraw = 0;
  private lastStage = '';
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  update(stage: string, message: string, done?: number, total?: number): void {
    if (!this.io.interactive) {
      if (stage !== this.lastStage) this.io.stderr.write(`${message}\n`);
      this.lastStage = stage;
      return;
    }
    const now = Date.now();
    if (stage === this.lastStage && now - this.lastDraw < 100 && done !== total) return;
    this.lastDraw = now;
    this.lastStage = stage;
    const bar = done !== undefined && total !== undefined && total > 0 ? `${renderBar(done / total, 24)} ` : '';
    writeControl(this.io.stderr, '\r\x1b[2K');
    this.io.stderr.write(`${bar}${message}`);
    this.drawn = true;
  }

  /** End the in-place line (call before printing anything else). */
  finish(): void {
    if (this.drawn) writeControl(this.io.stderr, '\r\x1b[2K');
    this.drawn = false;
  }
}

function renderBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

/** A number with fixed decimals, or "n/a" for NaN. */
export function fixed(value: number, decimals = 3): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : 'n/a';
}
