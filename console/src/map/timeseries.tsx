// A node's or edge's activity over the window (GetTimeSeriesServiceStatistics):
// requests, errors, throttles and faults per period as lines on the left
// axis, average latency dashed on the right; hovering reads out one period.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatDuration } from '../lib/format';
import { formatDateTime } from '../lib/time';
import { ErrorBanner, Loading } from '../ui/common';
import { palette, useTheme } from '../ui/theme';
import { loadTimeSeries, type SeriesColumns, seriesColumns } from './data';

interface Props {
  selector: string;
  kind: 'service' | 'edge';
  window: { start: number; end: number };
  period: number;
  group: string;
  reload: number;
}

const periodText = (p: number) => (p % 3600 === 0 ? `${p / 3600} h` : `${p / 60} min`);

function readout(cols: SeriesColumns, i: number, period: number): string {
  const parts = [`${formatDateTime(cols.t[i]!)} (${periodText(period)})`, `${cols.requests[i]} requests`];
  if (cols.errors[i]) parts.push(`${cols.errors[i]} errors`);
  if (cols.throttles[i]) parts.push(`${cols.throttles[i]} throttled`);
  if (cols.faults[i]) parts.push(`${cols.faults[i]} faults`);
  if (cols.latency[i] !== null) parts.push(`${formatDuration(cols.latency[i]!)} average`);
  return parts.join(' · ');
}

export function TimeSeries({ selector, kind, window, period, group, reload }: Props) {
  const [cols, setCols] = useState<SeriesColumns | null>(null);
  const [error, setError] = useState<unknown>(null);
  const host = useRef<HTMLDivElement>(null);
  const read = useRef<HTMLDivElement>(null);
  const theme = useTheme();

  useEffect(() => {
    const abort = new AbortController();
    setCols(null);
    setError(null);
    const end = Math.min(window.end, Date.now() / 1000);
    loadTimeSeries(selector, window, period, group, abort.signal)
      .then((points) => setCols(seriesColumns(points, kind, window.start, end, period)))
      .catch((e) => {
        if (!abort.signal.aborted) setError(e);
      });
    return () => abort.abort();
  }, [selector, kind, window.start, window.end, period, group, reload]);

  useEffect(() => {
    const el = host.current;
    if (!el || !cols) return;
    const p = palette();
    const line = (label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({
      label,
      stroke,
      width: 1.5,
      points: { show: false },
      ...extra,
    });
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 150,
      legend: { show: false },
      padding: [8, 4, 0, 0],
      cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] }, lat: { range: (_u, _min, max) => [0, Math.max(0.001, max * 1.15)] } },
      axes: [
        { stroke: p.muted, grid: { show: false }, ticks: { stroke: p.grid } },
        {
          stroke: p.muted,
          grid: { stroke: p.grid, width: 1 },
          ticks: { show: false },
          size: 40,
          values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? v.toLocaleString() : '')),
        },
        { scale: 'lat', side: 1, stroke: p.muted, grid: { show: false }, ticks: { show: false }, size: 56, values: (_u, vals) => vals.map((v) => (v === 0 ? '0' : formatDuration(v))) },
      ],
      series: [
        {},
        line('Requests', p.accent, { fill: p.accent + '22', paths: uPlot.paths.stepped!({ align: 1 }) }),
        line('Errors', p.error, { paths: uPlot.paths.stepped!({ align: 1 }) }),
        line('Throttles', p.throttle, { paths: uPlot.paths.stepped!({ align: 1 }) }),
        line('Faults', p.fault, { paths: uPlot.paths.stepped!({ align: 1 }) }),
        line('Average latency', p.muted, { scale: 'lat', dash: [4, 3], spanGaps: false }),
      ],
      hooks: {
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (read.current) read.current.textContent = i === null || i === undefined ? '' : readout(cols, i, period);
          },
        ],
      },
    };
    const data = [cols.t, cols.requests, cols.errors, cols.throttles, cols.faults, cols.latency] as uPlot.AlignedData;
    const u = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [cols, theme]);

  const totals = cols ? cols.requests.reduce((a, b) => a + b, 0) : 0;
  return (
    <div class="map-timeseries">
      <ErrorBanner error={error} context="Time series" />
      {!cols && !error ? (
        <div class="map-chart-placeholder">
          <Loading label="Loading time series" />
        </div>
      ) : null}
      {cols ? (
        <div class="chart" role="figure" aria-label={`Requests, errors, throttles, faults and average latency per ${periodText(period)}`}>
          <div ref={host} data-testid="timeseries" data-points={cols.t.length} />
          <span class="sr-only">
            {totals} requests over {cols.t.length} periods of {periodText(period)}
          </span>
        </div>
      ) : null}
      <div class="chart-caption">
        <span><span class="legend-swatch" style={{ background: 'var(--accent)' }} />Requests / {periodText(period)}</span>
        <span><span class="legend-swatch" style={{ background: 'var(--error)' }} />Errors</span>
        <span><span class="legend-swatch" style={{ background: 'var(--throttle)' }} />Throttles</span>
        <span><span class="legend-swatch" style={{ background: 'var(--fault)' }} />Faults</span>
        <span><span class="legend-swatch dashed" />Avg latency</span>
      </div>
      <div class="map-readout small muted" ref={read} aria-live="off" />
    </div>
  );
}
