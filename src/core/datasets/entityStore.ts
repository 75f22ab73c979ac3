/**
 * @file Compact storage of a dataset's valid rows, and the `Entity` objects that read from it.
 *
 * One plain object per row (entity, target array, metadata record) cost about 400 bytes a row: a 1M-row CSV of
 * 39 MB took 1 GB resident to load. Here a row is an index: line numbers in an Int32Array, targets in a
 * Float64Array, the split flag in an Int8Array, each metadata column dictionary-encoded (codes into the distinct
 * values, which are mostly few: countries, types, sources) or, once it has many distinct values, a plain array.
 * `entities()` hands out one small view object per row whose fields are read on access; `target` and `metadata`
 * are built (and frozen) on each access, so a caller that needs them often should keep what it read.
 */
import type { Entity } from './types';

/** Beyond this many distinct values a metadata column stops dictionary-encoding (ids, free text). */
const MAX_DICTIONARY = 1 << 16;

class MetadataColumn {
  private codes: Uint32Array;
  private dictionary: string[] = [];
  private lookup: Map<string, number> | undefined = new Map();
  /** Set once the column has too many distinct values to encode. */
  private plain: string[] | undefined;

  constructor(readonly name: string, rows: number, capacity: number) {
    this.codes = new Uint32Array(capacity);
    // A column first seen after `rows` rows (JSON Lines) is empty for them: code 0 is ''.
    if (rows > 0) this.code('');
  }

  private code(value: string): number {
    let code = this.lookup!.get(value);
    if (code === undefined) {
      code = this.dictionary.length;
      this.dictionary.push(value);
      this.lookup!.set(value, code);
    }
    return code;
  }

  set(row: number, value: string): void {
    if (this.plain !== undefined) {
      this.plain[row] = value;
      return;
    }
    if (row >= this.codes.length) this.codes = grow(this.codes, row + 1);
    this.codes[row] = this.code(value);
    if (this.dictionary.length > MAX_DICTIONARY) {
      this.plain = Array.from(this.codes.subarray(0, row + 1), (code) => this.dictionary[code]);
      this.codes = new Uint32Array(0);
      this.dictionary = [];
      this.lookup = undefined;
    }
  }

  get(row: number): string {
    return this.plain !== undefined ? this.plain[row] : this.dictionary[this.codes[row]];
  }
}

function grow<T extends Int32Array | Uint32Array | Float64Array | Int8Array>(array: T, needed: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(Math.max(needed, array.length * 2, 1024));
  bigger.set(array);
  return bigger;
}

/** FNV-1a over UTF-16 units. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

export class EntityStore {
  private count = 0;
  private lines = new Int32Array(1024);
  private names: string[] = [];
  private targets: Float64Array;
  /** -1: no is_test value (the file has no such column), 0: false, 1: true. */
  private isTest = new Int8Array(1024);
  private readonly columns: MetadataColumn[];

  constructor(private readonly targetWidth: number, metadataColumns: readonly string[]) {
    this.targets = new Float64Array(1024 * targetWidth);
    this.columns = metadataColumns.map((name) => new MetadataColumn(name, 0, 1024));
  }

  get length(): number {
    return this.count;
  }

  /** A metadata column that appears only from some row on (JSON Lines objects may add keys); '' before it. */
  addMetadataColumn(name: string): void {
    this.columns.push(new MetadataColumn(name, this.count, Math.max(this.count, 1024)));
  }

  push(line: number, name: string, target: readonly number[], isTest: boolean | undefined, metadata: readonly string[]): void {
    const row = this.count;
    if (row >= this.lines.length) {
      this.lines = grow(this.lines, row + 1);
      this.isTest = grow(this.isTest, row + 1);
      this.targets = grow(this.targets, (row + 1) * this.targetWidth);
    }
    this.lines[row] = line;
    this.names.push(name);
    for (let index = 0; index < this.targetWidth; index += 1) this.targets[row * this.targetWidth + index] = target[index];
    this.isTest[row] = isTest === undefined ? -1 : isTest ? 1 : 0;
    for (let index = 0; index < this.columns.length; index += 1) this.columns[index].set(row, metadata[index] ?? '');
    this.count += 1;
  }

  lineAt(row: number): number {
    return this.lines[row];
  }

  nameAt(row: number): string {
    return this.names[row];
  }

  targetAt(row: number, index: number): number {
    return this.targets[row * this.targetWidth + index];
  }

  targetOf(row: number): readonly number[] {
    // A plain loop: Array.from over a subarray (a view and an iterator per row) made a probe's 10,000 reads 23 ms.
    const target: number[] = [];
    for (let index = row * this.targetWidth, end = index + this.targetWidth; index < end; index++) target.push(this.targets[index]);
    return Object.freeze(target);
  }

  isTestAt(row: number): boolean | undefined {
    const flag = this.isTest[row];
    return flag < 0 ? undefined : flag === 1;
  }

  metadataOf(row: number): Readonly<Record<string, string>> {
    const metadata: Record<string, string> = {};
    for (const column of this.columns) metadata[column.name] = column.get(row);
    return Object.freeze(metadata);
  }

  /**
   * [first row, row] for every row whose name an earlier row has, in row order. An open-addressing table of row
   * numbers (4 bytes a slot) instead of a Map of a million names (about 50 bytes an entry).
   */
  *repeatedNames(): Generator<[number, number]> {
    let capacity = 1024;
    while (capacity < this.count * 2) capacity *= 2;
    const slots = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let row = 0; row < this.count; row += 1) {
      const name = this.names[row];
      let slot = hashString(name) & mask;
      for (;;) {
        const first = slots[slot];
        if (first === -1) {
          slots[slot] = row;
          break;
        }
        if (this.names[first] === name) {
          yield [first, row];
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }

  /** One view per row, in file order (a view holds only its row number: its class holds the store). */
  entities(): Entity[] {
    const View = viewClass(this);
    const views = new Array<Entity>(this.count);
    for (let row = 0; row < this.count; row += 1) views[row] = new View(row);
    return views;
  }
}

/** The class of the views of one store: a row of it seen as an Entity (read-only: the fields are getters). */
function viewClass(store: EntityStore): new (row: number) => Entity {
  return class StoredEntity implements Entity {
    constructor(private readonly row: number) {}
    get line(): number { return store.lineAt(this.row); }
    get name(): string { return store.nameAt(this.row); }
    get target(): readonly number[] { return store.targetOf(this.row); }
    get isTest(): boolean | undefined { return store.isTestAt(this.row); }
    get metadata(): Readonly<Record<string, string>> { return store.metadataOf(this.row); }
    /** What JSON.stringify and structured logs see: the fields, not the store behind them. */
    toJSON(): Entity {
      return { line: this.line, name: this.name, target: this.target, isTest: this.isTest, metadata: this.metadata };
    }
  };
}
