// A response-time distribution as bars (uPlot), with drag-to-select: the
// selected range is snapped to bin edges and reported in seconds. One series,
// or two overlaid (a selection against its baseline, as shares).
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { HistogramEntry } from '../api/types';
import { formatDuration, formatPercent } from '../lib/format';
import { type Bins, rebin, snapSelection } from '../lib/histogram';
import { palette, useTheme } from './theme';

export interface HistogramSeries {
  label: string;
  entries: HistogramEntry[];
  color?: 'accent' | 'baseline' | 'ok' | 'fault';
}

interface Props {
  series: HistogramSeries[];
  height?: number;
  shares?: boolean; // y as the share of each series' total (to compare sets)
  selection?: [number, number] | null;
  onSelect?: (range: [number, number] | null) => void;
  label: string; // accessible name
}

// Common bins for every series, so overlaid bars line up.
function sharedBins(series: HistogramSeries[]): { bins: Bins; per: number[][] } {
  const all = series.flatMap((s) => s.entries);
  const bins = rebin(all);
  const per = series.map((s) => {
    const counts = new Array<number>(bins.counts.length).fill(0);
    for (const e of s.entries) {
      const i = Math.min(counts.length - 1, Math.floor(e.Value / bins.width + 1e-9));
      if (i >= 0) counts[i]! += e.Count;
    }
    return counts;
  });
  return { bins, per };
}

function showSelection(u: uPlot, bins: Bins, selection: [number, number] | null): void {
  if (!selection) {
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    return;
  }
  const end = bins.counts.length * bins.width;
  const left = u.valToPos(Math.min(selection[0], end), 'x');
  const right = u.valToPos(Math.min(Number.isFinite(selection[1]) ? selection[1] : end, end), 'x');
  u.setSelect({ left, top: 0, width: Math.max(2, right - left), height: u.bbox.height / devicePixelRatio }, false);
}

export function Histogram({ series, height = 140, shares = false, selection, onSelect, label }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useTheme();
  // Callers rebuild the series array on every render; the chart is rebuilt
  // only when the data in it changes.
  const { bins, per } = useMemo(() => sharedBins(series), series.flatMap((s) => [s.entries, s.label, s.color]));
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const selectionRef = useRef(selection);
  selectionRef.current = selection;
  const empty = bins.total === 0;

  useEffect(() => {
    const el = host.current;
    if (!el || empty) return;
    const p = palette();
    const colors = series.map((s) => (s.color ? p[s.color] : p.accent));
    const xs = bins.counts.map((_, i) => (i + 0.5) * bins.width);
    const ys = per.map((counts) => {
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return shares ? counts.map((c) => c / total) : counts;
    });
    const barWidth = series.length > 1 ? 0.45 : 0.9;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      cursor: {
        drag: { x: Boolean(onSelectRef.current), y: false, setScale: false },
        points: { show: false },
        y: false,
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: false, range: [0, bins.counts.length * bins.width] }, y: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
      axes: [
        {
          stroke: p.muted,
          grid: { show: false },
          ticks: { stroke: p.grid },
          values: (_u, vals) =>
            vals.map((v) => (v === 0 ? '0' : bins.tailFrom !== null && v >= bins.tailFrom + bins.width * 0.5 ? `≥${formatDuration(bins.tailFrom)}` : formatDuration(v))),
        },
        {
          stroke: p.muted,
          grid: { stroke: p.grid, width: 1 },
          ticks: { show: false },
          size: 48,
          values: (_u, vals) => vals.map((v) => (shares ? formatPercent(v) : Number.isInteger(v) ? v.toLocaleString() : '')),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          fill: colors[i] + (series.length > 1 ? 'aa' : 'cc'),
          stroke: colors[i],
          width: 0,
          paths: uPlot.paths.bars!({ size: [barWidth, 60], align: series.length > 1 ? (i === 0 ? -1 : 1) : 0 }),
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, 'x');
            const hi = u.posToVal(u.select.left + u.select.width, 'x');
            onSelectRef.current?.(snapSelection(bins, lo, hi));
          },
        ],
      },
    };
    const u = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, el);
    plot.current = u;
    showSelection(u, bins, selectionRef.current ?? null);
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [bins, per, shares, height, theme, empty]);

  // Show the current selection (also one chosen elsewhere: URL, inputs).
  useEffect(() => {
    if (plot.current) showSelection(plot.current, bins, selectionRef.current ?? null);
  }, [selection, bins]);

  const total = bins.total;
  return (
    <div class="chart" role="figure" aria-label={label}>
      {empty ? (
        <div class="empty small" style={{ height: `${height}px`, padding: '48px 0' }}>
          No response times in this range
        </div>
      ) : (
        <div ref={host} data-testid="histogram" data-bin-width={bins.width} data-bins={bins.counts.length} />
      )}
      <span class="sr-only">
        {series.map((s, i) => `${s.label}: ${per[i]?.reduce((a, b) => a + b, 0) ?? 0} traces`).join('; ')} of {total}
      </span>
    </div>
  );
}
