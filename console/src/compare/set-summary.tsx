// The two sets side by side at a glance: how many traces each has (and how
// much of the range that is based on), their response-time distributions
// overlaid as shares, their quantiles, and their status shares.
import { formatCount, formatDuration } from '../lib/format';
import { Histogram } from '../ui/histogram';
import { type CompareParams, tracesHash } from './compare-params';
import { DiffTable } from './diff-table';
import type { Side } from './coverage';
import type { DiffRow } from './set-diff';
import { quantiles } from './typical';

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined) return '—';
  if (b === 0) return a === 0 ? '×1' : '—';
  const r = a / b;
  return `×${r < 10 ? r.toFixed(2) : Math.round(r)}`;
}

interface Props {
  A: Side;
  B: Side;
  params: CompareParams;
  statusRows: DiffRow[];
  onSelectRange: (range: [number, number]) => void;
  onAdd: (term: string) => void;
}

export function SetSummary({ A, B, params, statusRows, onSelectRange, onAdd }: Props) {
  const qa = quantiles(A.data.ResponseTimeHistogram);
  const qb = quantiles(B.data.ResponseTimeHistogram);
  const order = ['ok', 'error', 'throttle', 'fault', 'partial'];
  const statuses = [...statusRows].sort((x, y) => order.indexOf(x.key.split('\u0000')[1]!) - order.indexOf(y.key.split('\u0000')[1]!));
  return (
    <div class="set-summary">
      <section class="panel sets-panel" aria-label="The two sets">
        {[A, B].map((s) => (
          <div class={`set-card side-${s.name.toLowerCase()}`}>
            <div class="set-name">
              <span class={`side-badge side-${s.name.toLowerCase()}`}>{s.name}</span> {s.title}
            </div>
            <div class="mono small ellipsis set-filter" title={s.filter}>
              {s.filter}
            </div>
            <div class="set-count">
              <strong data-testid={`count-${s.name.toLowerCase()}`}>{formatCount(s.data.TraceCount)}</strong> traces
              {s.data.Complete ? null : <span class="tag partial-scan">most recent only</span>}
            </div>
            <a class="small" href={tracesHash(params, s.name === 'A' ? 'a' : 'b')}>
              Open {s.name} in the traces view
            </a>
          </div>
        ))}
      </section>
      <section class="panel rt-panel" aria-label="Response time">
        <div class="panel-head">
          <h2>Response time</h2>
          <span class="chart-caption">
            <span>
              <span class="legend-swatch" style={{ background: 'var(--accent)' }} />A · Selection
            </span>
            <span>
              <span class="legend-swatch" style={{ background: 'var(--baseline)' }} />B · Baseline
            </span>
            <span>share of each set’s traces; drag to narrow A</span>
          </span>
        </div>
        <div class="panel-body rt-body">
          <div class="grow">
            <Histogram
              label="Response-time distributions of A and B as shares of each set; drag across it to narrow A to that range"
              height={200}
              shares
              series={[
                { label: 'A · Selection', entries: A.data.ResponseTimeHistogram, color: 'accent' },
                { label: 'B · Baseline', entries: B.data.ResponseTimeHistogram, color: 'baseline' },
              ]}
              onSelect={(r) => r && onSelectRange(r)}
            />
          </div>
          <table class="data quantiles" aria-label="Response-time quantiles">
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col" class="num">A</th>
                <th scope="col" class="num">B</th>
                <th scope="col" class="num">A ÷ B</th>
              </tr>
            </thead>
            <tbody>
              {(['p50', 'p90', 'p99'] as const).map((k) => (
                <tr>
                  <th scope="row">{k}</th>
                  <td class="num" data-testid={`${k}-a`}>{formatDuration(qa[k])}</td>
                  <td class="num" data-testid={`${k}-b`}>{formatDuration(qb[k])}</td>
                  <td class="num">{ratio(qa[k], qb[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel status-panel" aria-label="Status">
        <div class="panel-head">
          <h2>Status</h2>
        </div>
        <DiffTable rows={statuses} label="Status shares of A and B" params={params} onAdd={onAdd} initial={5} testId="status-table" />
      </section>
    </div>
  );
}
