// What the views share as the user moves between them: the time range and
// the group. Each view reads them from its URL and records them here, so the
// top bar's links carry them along.
import { defaultRange } from './time';

let range = defaultRange;
let group = '';

export function rememberScope(params: URLSearchParams): void {
  range = params.get('range') || range;
  group = params.get('group') ?? group;
}

export function scopeParams(): Record<string, string> {
  const out: Record<string, string> = { range };
  if (group) out.group = group;
  return out;
}
