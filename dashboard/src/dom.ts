/** Tiny DOM helpers: text is always set as text (never parsed as HTML), so ledger data cannot inject markup. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Integers with thousands separators (en-US, so tests and screenshots read the same everywhere). */
export const fmt = (n: number): string => n.toLocaleString('en-US');

export interface Column<T> {
  h: string;
  v: (row: T, index: number) => string | number | Node;
  num?: boolean;
  /** `data-k` on the cell: the field a test reads */
  key?: string;
}

/** A captioned table with header cells scoped to columns; an empty list says so in one row. */
export function table<T>(caption: string, cols: Column<T>[], rows: T[], rowAttrs?: (row: T) => Record<string, string>): HTMLTableElement {
  const body = rows.length
    ? rows.map((r, i) =>
        el(
          'tr',
          rowAttrs ? rowAttrs(r) : {},
          ...cols.map((c) => {
            const v = c.v(r, i);
            const attrs: Record<string, string> = {};
            if (c.num) attrs.class = 'num';
            if (c.key) attrs['data-k'] = c.key;
            if (typeof v === 'number') attrs['data-value'] = String(v);
            return el('td', attrs, typeof v === 'number' ? fmt(v) : v);
          }),
        ),
      )
    : [el('tr', {}, el('td', { colspan: String(cols.length), class: 'note' }, 'none yet'))];
  return el('table', {}, el('caption', {}, caption), el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col' }, c.h)))), el('tbody', {}, ...body));
}

/** A long ledger id (pseudonym, task id) shortened for tables; the full id is its accessible name and tooltip. */
export function shortId(id: string): HTMLElement {
  return id.length <= 14 ? el('span', {}, id) : el('abbr', { title: id, 'aria-label': id, class: 'id' }, `${id.slice(0, 12)}…`);
}

export function ids(list: string[]): Node {
  const s = el('span');
  list.forEach((id, i) => s.append(...(i ? [', '] : []), shortId(id)));
  return list.length ? s : document.createTextNode('—');
}
