// The critical path, as Jaeger defines it: start at the root's end and walk
// back in time. In a span, the last-finishing child that ends before the
// current point is what the span waited for: the time after that child ends
// is the span's own (on the path), and the walk continues inside the child
// from its end. A span with no such child is on the path back to its start,
// and the walk returns to its parent at that start. Children are first
// clipped to their parent's interval (a child outliving its parent cannot
// delay it past its end).
import type { SpanTree } from './spans';

export interface CriticalSection {
  span: number;
  start: number;
  end: number;
}

interface Frame {
  span: number;
  lo: number;
  hi: number;
  bound: number; // the walk's current point in this span, going back
  kids: { span: number; lo: number; hi: number }[]; // clipped, by end then start
  cursor: number; // children at or past it are spent
}

function frame(tree: SpanTree, span: number, lo: number, hi: number): Frame {
  const kids: Frame['kids'] = [];
  for (const c of tree.spans[span]!.children) {
    const child = tree.spans[c]!;
    if (child.end < lo || child.start > hi) continue;
    kids.push({ span: c, lo: Math.max(lo, child.start), hi: Math.min(hi, child.end) });
  }
  kids.sort((a, b) => a.hi - b.hi || a.lo - b.lo || a.span - b.span);
  return { span, lo, hi, bound: hi, kids, cursor: kids.length };
}

// Sections of spans on the path, latest first. Iterative: a trace of
// thousands of sequential calls is a long path.
export function criticalPath(tree: SpanTree, from = tree.root): CriticalSection[] {
  const out: CriticalSection[] = [];
  const root = tree.spans[from];
  if (!root) return out;
  const stack: Frame[] = [frame(tree, from, root.start, root.end)];
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    // The last-finishing child that ends no later than the current point.
    // Children are ordered by end, and the point only moves back, so a child
    // passed over is never a candidate again.
    let j = f.cursor - 1;
    while (j >= 0 && f.kids[j]!.hi > f.bound) j--;
    if (j >= 0) {
      const k = f.kids[j]!;
      if (k.hi < f.bound) out.push({ span: f.span, start: k.hi, end: f.bound });
      f.cursor = j;
      f.bound = k.lo;
      stack.push(frame(tree, k.span, k.lo, k.hi));
      continue;
    }
    if (f.lo < f.bound) out.push({ span: f.span, start: f.lo, end: f.bound });
    stack.pop();
  }
  return out;
}

// The sections by span, in time order, and the set of spans on the path.
export function sectionsBySpan(sections: CriticalSection[]): Map<number, { start: number; end: number }[]> {
  const map = new Map<number, { start: number; end: number }[]>();
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i]!;
    let list = map.get(s.span);
    if (!list) map.set(s.span, (list = []));
    list.push({ start: s.start, end: s.end });
  }
  return map;
}
