// Building filter expressions from clicks, and composing the user's
// expression with the console's own terms (a group, a response-time range)
// while keeping the server's error columns meaningful for what the user typed.

export function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function literal(value: string | number | boolean): string {
  if (typeof value === 'string') return quote(value);
  return String(value);
}

// annotation.key = value, with the bracket form for keys that need it.
export function annotationTerm(key: string, value: string | number | boolean): string {
  const ref = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `annotation.${key}` : `annotation[${quote(key)}]`;
  return `${ref} = ${literal(value)}`;
}

export const userTerm = (user: string) => `user = ${quote(user)}`;
export const urlTerm = (url: string) => `http.url = ${quote(url)}`;
export const serviceTerm = (name: string, type?: string) =>
  type && type !== 'client'
    ? `service(id(name: ${quote(name)}, type: ${quote(type)}))`
    : type === 'client'
      ? `service(id(type: "client"))`
      : `service(${quote(name)})`;
export const edgeTerm = (from: string, to: string) => `edge(${quote(from)}, ${quote(to)})`;
export const statusTerm = (status: 'ok' | 'error' | 'throttle' | 'fault') => status;

// Response times in [lo, hi) seconds.
export function responseTimeTerm(lo: number, hi: number): string {
  return `responsetime >= ${round(lo)} AND responsetime < ${round(hi)}`;
}

function round(x: number): string {
  return String(Math.round(x * 1e6) / 1e6);
}

// The user's expression with one more term ANDed on, as a person would type
// it (no parentheses unless the expression has a top-level OR).
export function addTerm(expression: string, term: string): string {
  const e = expression.trim();
  if (!e) return term;
  if (e.includes(term)) return e;
  return hasTopLevelOr(e) ? `(${e}) AND ${term}` : `${e} AND ${term}`;
}

function hasTopLevelOr(e: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < e.length; i++) {
    const c = e[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && /^\bor\b/i.test(e.slice(i, i + 3)) && /\s|^$/.test(e[i - 1] ?? '')) return true;
  }
  return false;
}

export interface ComposedFilter {
  expression: string; // what is sent
  // Maps a column of `expression` (1-based) back to the user's text, or
  // undefined when it falls in a term the console added.
  userColumn(column: number): number | undefined;
}

// "(user) AND extra1 AND extra2"; parentheses only when there are extras.
export function composeFilter(user: string, extras: string[]): ComposedFilter {
  const u = user.trimEnd(); // leading spaces stay, so columns match the input
  const parts = extras.filter(Boolean);
  if (parts.length === 0) return { expression: u.trim() ? u : '', userColumn: (c) => (c <= u.length + 1 ? c : undefined) };
  if (!u.trim()) return { expression: parts.join(' AND '), userColumn: () => undefined };
  const expression = `(${u}) AND ${parts.join(' AND ')}`;
  return {
    expression,
    userColumn: (c) => (c >= 2 && c <= u.length + 2 ? c - 1 : undefined),
  };
}
