// The expressions this browser ran last (localStorage), offered by completion
// when the input is empty.
const storageKey = 'roentgen.recentFilters';
const keep = 10;

export function recentFilters(): string[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(storageKey) ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string').slice(0, keep) : [];
  } catch {
    return [];
  }
}

export function rememberFilter(expression: string): void {
  const e = expression.trim();
  if (!e) return;
  try {
    localStorage.setItem(storageKey, JSON.stringify([e, ...recentFilters().filter((x) => x !== e)].slice(0, keep)));
  } catch {
    // storage disabled: nothing is remembered
  }
}
