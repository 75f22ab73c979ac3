/**
 * The output channel with control characters escaped in every message (dataset fields, file names and Hub
 * answers are echoed in log lines; see src/core/util/controlChars.ts).
 */
import type * as vscode from 'vscode';
import { escapeControlChars } from '../../core/util/controlChars';

const WRITERS = new Set(['append', 'appendLine', 'replace', 'trace', 'debug', 'info', 'warn', 'error']);

export function escapingLogChannel(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  return new Proxy(channel, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string' || !WRITERS.has(property)) return method;
      return (...args: unknown[]) => method(...args.map((arg) => (typeof arg === 'string' ? escapeControlChars(arg)
        : arg instanceof Error ? Object.assign(new Error(escapeControlChars(arg.message)), { name: arg.name, stack: arg.stack && escapeControlChars(arg.stack) }) : arg)));
    },
  });
}
