/**
 * The sortable predictions table. Built with DOM APIs and `textContent` only: entity names and every other
 * value from the dataset are data, never markup (a row named `<img src=x onerror=alert(1)>` shows as text).
 */
import type { PredictionRow } from './charts';
import { errorUnit } from './geo';

export type SortColumn = 'row' | 'name' | 'split' | 'error';

export interface TableOptions {
  readonly kind: 'space' | 'time';
  readonly sortColumn: SortColumn;
  readonly sortDescending: boolean;
  readonly filter: string;
  /** Rows drawn at most (the caption says how many matched). */
  readonly limit: number;
  readonly onSort: (column: SortColumn) => void;
  readonly onReveal: (row: number) => void;
}

/** The metadata columns the rows carry, in order of first appearance (at most `limit`). */
export function metadataColumns(rows: readonly { readonly metadata?: Readonly<Record<string, string>> }[], limit = Infinity): string[] {
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row.metadata ?? {})) seen.add(key);
    if (seen.size >= limit) break;
  }
  return [...seen].slice(0, limit);
}

/** Sorted, filtered copy; the filter matches the name or any metadata value; ties broken by line (stable order). */
export function sortAndFilterRows(rows: readonly PredictionRow[], column: SortColumn, descending: boolean, filter: string): PredictionRow[] {
  const needle = filter.trim().toLocaleLowerCase();
  const matches = (r: PredictionRow): boolean => r.name.toLocaleLowerCase().includes(needle) ||
    Object.values(r.metadata ?? {}).some((value) => value.toLocaleLowerCase().includes(needle));
  const kept = needle ? rows.filter(matches) : [...rows];
  const direction = descending ? -1 : 1;
  const compare = (a: PredictionRow, b: PredictionRow): number => {
    let order = 0;
    if (column === 'name') order = a.name.localeCompare(b.name);
    else if (column === 'split') order = a.split.localeCompare(b.split);
    else if (column === 'error') order = (Number.isFinite(a.error) ? a.error : -1) - (Number.isFinite(b.error) ? b.error : -1);
    else order = a.row - b.row;
    return order * direction || a.row - b.row;
  };
  return kept.sort(compare);
}

/** toFixed without a negative zero: −0.0001 → "0.000", not "-0.000". */
export function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

export function formatValues(kind: 'space' | 'time', values: readonly number[]): string {
  return kind === 'space' ? `${fixed(values[0], 3)}, ${fixed(values[1], 3)}` : fixed(values[0], kind === 'time' ? 0 : 2);
}

function cell(tag: 'td' | 'th', text: string, className?: string): HTMLTableCellElement {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** Renders the table into `container`, replacing what was there. */
export function renderPredictionTable(container: HTMLElement, rows: readonly PredictionRow[], options: TableOptions): void {
  const sorted = sortAndFilterRows(rows, options.sortColumn, options.sortDescending, options.filter);
  const shown = sorted.slice(0, options.limit);
  const unit = errorUnit(options.kind);
  // The dataset's metadata (type, country, block …): up to four columns; the table scrolls sideways.
  const extra = metadataColumns(rows, 4);
  const table = document.createElement('table');
  table.className = 'predictions';
  const head = table.createTHead().insertRow();
  const columns: { key: SortColumn | null; label: string; numeric: boolean }[] = [
    { key: 'row', label: 'Line', numeric: true },
    { key: 'name', label: 'Entity', numeric: false },
    { key: 'split', label: 'Split', numeric: false },
    ...extra.map((name) => ({ key: null, label: name, numeric: false })),
    { key: null, label: options.kind === 'space' ? 'True (lat, lon)' : 'True year', numeric: true },
    { key: null, label: options.kind === 'space' ? 'Predicted (lat, lon)' : 'Predicted year', numeric: true },
    { key: 'error', label: `Error (${unit})`, numeric: true },
  ];
  for (const column of columns) {
    const th = cell('th', column.label, column.numeric ? 'numeric' : undefined);
    const key = column.key;
    if (key) {
      const active = options.sortColumn === key;
      th.setAttribute('aria-sort', active ? (options.sortDescending ? 'descending' : 'ascending') : 'none');
      th.tabIndex = 0;
      th.classList.add('sortable');
      if (active) th.dataset.sort = options.sortDescending ? 'desc' : 'asc';
      th.addEventListener('click', () => options.onSort(key));
      th.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          options.onSort(key);
        }
      });
    }
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const r of shown) {
    const tr = body.insertRow();
    tr.tabIndex = 0;
    tr.title = `Reveal line ${r.row} in the dataset file`;
    tr.appendChild(cell('td', String(r.row), 'numeric'));
    tr.appendChild(cell('td', r.name, 'entity'));
    tr.appendChild(cell('td', r.split));
    for (const name of extra) tr.appendChild(cell('td', r.metadata?.[name] ?? ''));
    tr.appendChild(cell('td', formatValues(options.kind, r.truth), 'numeric'));
    tr.appendChild(cell('td', formatValues(options.kind, r.predicted), 'numeric'));
    tr.appendChild(cell('td', Number.isFinite(r.error) ? r.error.toFixed(options.kind === 'space' ? 0 : 1) : '–', 'numeric'));
    tr.addEventListener('click', () => options.onReveal(r.row));
    tr.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') options.onReveal(r.row);
    });
  }
  const caption = document.createElement('p');
  caption.className = 'caption';
  caption.textContent = sorted.length > shown.length
    ? `Showing ${shown.length} of ${sorted.length} predictions (sorted; filter to narrow down). Click a row to reveal it in the dataset.`
    : `${sorted.length} predictions. Click a row to reveal it in the dataset.`;
  container.replaceChildren(caption, table);
}
