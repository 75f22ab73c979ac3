/**
 * @file config.json as the architecture files read it: typed getters with each family's defaults, and errors that
 * name the file and key. Multimodal wrappers keep the language model's settings under `text_config`; those are read
 * first when present.
 */
import { ModelLoadError } from '../errors';

export class ConfigReader {
  private readonly record: Record<string, unknown>;

  constructor(raw: unknown, readonly file: string) {
    const top = isRecord(raw) ? raw : {};
    this.record = isRecord(top.text_config) ? { ...top, ...top.text_config } : top;
  }

  get modelType(): string | undefined {
    const value = this.record.model_type;
    return typeof value === 'string' ? value : undefined;
  }

  has(key: string): boolean {
    return this.record[key] !== undefined && this.record[key] !== null;
  }

  raw(key: string): unknown {
    return this.record[key];
  }

  /** The first of `keys` that is present (Hub configs use several names for one setting). */
  private first(keys: string | readonly string[]): [string, unknown] | undefined {
    for (const key of typeof keys === 'string' ? [keys] : keys) {
      if (this.has(key)) return [key, this.record[key]];
    }
    return undefined;
  }

  private invalid(key: string, expected: string, value: unknown): never {
    throw new ModelLoadError(`${this.file}: ${key} is ${JSON.stringify(value)}; expected ${expected}.`);
  }

  private missing(keys: string | readonly string[]): never {
    const list = typeof keys === 'string' ? keys : keys.join(' / ');
    throw new ModelLoadError(`${this.file} has no ${list}, which ${this.modelType ?? 'this'} models need.`);
  }

  int(keys: string | readonly string[], fallback?: number): number {
    const found = this.first(keys);
    if (!found) return fallback ?? this.missing(keys);
    const [key, value] = found;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.invalid(key, 'an integer', value);
    return value;
  }

  positiveInt(keys: string | readonly string[], fallback?: number): number {
    const value = this.int(keys, fallback);
    if (value <= 0) this.invalid(typeof keys === 'string' ? keys : keys[0], 'a positive integer', value);
    return value;
  }

  optionalInt(keys: string | readonly string[]): number | undefined {
    return this.first(keys) ? this.int(keys) : undefined;
  }

  number(keys: string | readonly string[], fallback?: number): number {
    const found = this.first(keys);
    if (!found) return fallback ?? this.missing(keys);
    const [key, value] = found;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.invalid(key, 'a finite number', value);
    return value;
  }

  optionalNumber(keys: string | readonly string[]): number | undefined {
    return this.first(keys) ? this.number(keys) : undefined;
  }

  bool(keys: string | readonly string[], fallback: boolean): boolean {
    const found = this.first(keys);
    if (!found) return fallback;
    const [key, value] = found;
    if (typeof value !== 'boolean') this.invalid(key, 'true or false', value);
    return value;
  }

  string(keys: string | readonly string[], fallback: string): string {
    const found = this.first(keys);
    if (!found) return fallback;
    const [key, value] = found;
    if (typeof value !== 'string') this.invalid(key, 'a string', value);
    return value;
  }

  /** An object-valued key (rope_scaling, rope_parameters). */
  object(keys: string | readonly string[]): Record<string, unknown> | undefined {
    const found = this.first(keys);
    if (!found) return undefined;
    const [key, value] = found;
    if (!isRecord(value)) this.invalid(key, 'an object', value);
    return value;
  }

  /** Fail on a setting this builder does not implement (better refused than silently ignored). */
  refuse(key: string, why: string): never {
    throw new ModelLoadError(`${this.file}: ${key} = ${JSON.stringify(this.record[key])} is not supported: ${why}.`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
