// The waterfall's state: grouping on or off, which rows are open, and the
// selected row, kept in step with the URL's ?span= (a reload or a shared link
// reopens the same span, its ancestors opened so it is on screen).
import { useLayoutEffect, useMemo, useState } from 'preact/hooks';
import { formatHash, navigate } from '../lib/router';
import { buildDisplayTree, closedAncestors, flatten, initialOpen, setOpen, type DisplayNode, type OpenState } from './rows';
import type { SpanTree } from './spans';

export function useWaterfallState(tree: SpanTree, traceId: string, params: URLSearchParams) {
  const [grouping, setGrouping] = useState(true);
  const display = useMemo(() => buildDisplayTree(tree, grouping), [tree, grouping]);
  const [open, setOpenState] = useState<OpenState>(initialOpen);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  // Bumped when the selection came from the URL: the waterfall scrolls to it.
  const [revealed, setRevealed] = useState(0);

  const spanId = params.get('span') ?? '';
  const urlSpan = spanId ? tree.byId.get(spanId) ?? -1 : -1;
  const selected: DisplayNode | null = (selectedKey !== null && display.byKey.get(selectedKey)) || null;

  useLayoutEffect(() => {
    if (urlSpan < 0) {
      if (selectedKey !== null) setSelectedKey(null);
      return;
    }
    // A group row stands for its first member: selecting it keeps it.
    if (selected && selected.span === urlSpan) return;
    const node = display.nodes[display.nodeOfSpan[urlSpan]!];
    if (!node) return;
    const closed = closedAncestors(open, node);
    if (closed.length) setOpenState((s) => setOpen(s, closed, true));
    setSelectedKey(node.key);
    setRevealed((n) => n + 1);
  }, [urlSpan, display]);

  const rows = useMemo(() => flatten(display, open), [display, open]);
  const rowIndex = useMemo(() => {
    const m = new Map<string, number>();
    rows.forEach((r, i) => m.set(r.node.key, i));
    return m;
  }, [rows]);

  // `also`: other URL parameters to change in the same step.
  const select = (key: string | null, also: Record<string, string | undefined> = {}) => {
    const node = key === null ? null : display.byKey.get(key) ?? null;
    setSelectedKey(node ? node.key : null);
    const next: Record<string, string | undefined> = { ...Object.fromEntries(params.entries()), ...also };
    next.span = node ? tree.spans[node.span]!.id : undefined;
    navigate(formatHash('trace', [traceId], next), { replace: true });
  };

  // Selects a span by index, opening what hides it.
  const selectSpan = (span: number, also: Record<string, string | undefined> = {}) => {
    const node = display.nodes[display.nodeOfSpan[span]!];
    if (!node) return;
    const closed = closedAncestors(open, node);
    if (closed.length) setOpenState((s) => setOpen(s, closed, true));
    select(node.key, also);
    setRevealed((n) => n + 1);
  };

  const toggle = (node: DisplayNode, value: boolean) => setOpenState((s) => setOpen(s, [node], value));
  const expandAll = () => setOpenState({ spans: true, groups: true, toggled: new Map() });
  const collapseAll = () => setOpenState({ spans: false, groups: false, toggled: new Map() });
  // The default: every span open, groups of repeated calls closed.
  const resetOpen = () => setOpenState(initialOpen);

  return {
    grouping,
    setGrouping,
    display,
    open,
    rows,
    rowIndex,
    selected,
    select,
    selectSpan,
    toggle,
    expandAll,
    collapseAll,
    resetOpen,
    revealed,
    missingSpan: spanId !== '' && urlSpan < 0 ? spanId : null,
  };
}

export type WaterfallState = ReturnType<typeof useWaterfallState>;
