/** Terminal output helpers shared by the CLI commands: aligned tables and a progress line on stderr. */
import type { CliIo } from './command';

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
    this.io.stderr.write(`\r\x1b[2K${bar}${message}`);
    this.drawn = true;
  }

  /** End the in-place line (call before printing anything else). */
  finish(): void {
    if (this.drawn) this.io.stderr.write('\r\x1b[2K');
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
