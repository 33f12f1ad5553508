// Tables of ranked differences between the two sets: each value with its
// share of A and of B, the difference in percentage points, and the
// difference it surely has (the ranking score). A value adds itself to A's
// filter; the links open either set narrowed to it in the traces view.
import { useState } from 'preact/hooks';
import { formatCount, formatPercent } from '../lib/format';
import { type CompareParams, tracesHash } from './compare-params';
import { type DiffRow, dimensionLabels, type SideCount } from './set-diff';

export const rankingNote =
  'Ranked by how surely the shares differ: the lower end of a 95% confidence interval for |A − B| (Agresti–Caffo), so a big gap seen in a few traces ranks below a smaller one seen in many; 0 means chance could explain it.';

export function points(delta: number): string {
  const pp = delta * 100;
  const text = Math.abs(pp) < 10 && pp !== 0 ? Math.abs(pp).toFixed(1) : String(Math.round(Math.abs(pp)));
  if (text === '0' || text === '0.0') return '0 pp';
  return `${pp > 0 ? '+' : '−'}${text} pp`;
}

function Share({ side }: { side: SideCount }) {
  const prefix = side.atMost ? '≤ ' : '';
  return (
    <span title={side.atMost ? 'Not in this set’s top values: at most this many' : undefined}>
      {prefix}
      {formatPercent(side.share)} <span class="muted">({prefix}{formatCount(side.count)})</span>
    </span>
  );
}

// A bar from the middle: right (accent) when A has more, left when B has.
export function DeltaBar({ delta }: { delta: number }) {
  const width = Math.min(50, Math.abs(delta) * 50);
  return (
    <span class="share-bar" aria-hidden="true">
      <span class={delta >= 0 ? 'more-a' : 'more-b'} style={{ width: `${width}%`, [delta >= 0 ? 'left' : 'right']: '50%' }} />
    </span>
  );
}

interface TableProps {
  rows: DiffRow[];
  label: string;
  params: CompareParams;
  onAdd: (term: string) => void;
  showDimension?: boolean;
  initial?: number; // rows shown before "Show all"
  testId?: string;
}

export function DiffTable({ rows, label, params, onAdd, showDimension = false, initial = 8, testId }: TableProps) {
  const [all, setAll] = useState(false);
  if (!rows.length) return <p class="empty small">Neither set has any.</p>;
  const shown = all ? rows : rows.slice(0, initial);
  return (
    <div class="diff-table-wrap">
      <table class="data diff-table" aria-label={label} data-testid={testId}>
        <thead>
          <tr>
            {showDimension ? <th scope="col">Dimension</th> : null}
            <th scope="col">Value</th>
            <th scope="col" class="num" title="Share of A’s traces (count)">
              A · Selection
            </th>
            <th scope="col" class="num" title="Share of B’s traces (count)">
              B · Baseline
            </th>
            <th scope="col" class="num" title="Share of A minus share of B, in percentage points">
              Δ (A − B)
            </th>
            <th scope="col" class="num" title={rankingNote}>
              Δ at least
            </th>
            <th scope="col">
              <span class="sr-only">Open in traces view</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.key} class={r.score > 0 ? 'clear' : 'unclear'}>
              {showDimension ? (
                <td class="muted small">
                  {dimensionLabels[r.dimension]}
                  {r.group && r.dimension === 'rootcause' ? ` (${r.group.toLowerCase()})` : ''}
                </td>
              ) : null}
              <td class="value-cell">
                {r.dimension === 'rootcause' && !showDimension ? <><span class="tag kind">{r.group}</span> </> : null}
                {r.dimension === 'status' ? <span class={`status ${r.key.split('\u0000')[1]}`} aria-hidden="true" /> : null}
                {r.term ? (
                  <button type="button" class="link value" title={`Add to A’s filter: ${r.term}`} onClick={() => onAdd(r.term!)}>
                    {r.label}
                  </button>
                ) : (
                  r.label
                )}
                {r.detail ? <span class="muted small detail"> {r.detail}</span> : null}
              </td>
              <td class="num">
                <Share side={r.a} />
              </td>
              <td class="num">
                <Share side={r.b} />
              </td>
              <td class={`num delta ${r.delta > 0 ? 'pos' : r.delta < 0 ? 'neg' : ''}`}>
                <DeltaBar delta={r.delta} />
                <span class="delta-text">{points(r.delta)}</span>
              </td>
              <td class="num muted">{r.score > 0 ? `${(r.score * 100).toFixed(r.score < 0.1 ? 1 : 0)} pp` : '—'}</td>
              <td class="open-links small">
                {r.term ? (
                  <>
                    <a href={tracesHash(params, 'a', r.term)} aria-label={`Traces of A with ${r.label}`}>
                      A
                    </a>{' '}
                    <a href={tracesHash(params, 'b', r.term)} aria-label={`Traces of B with ${r.label}`}>
                      B
                    </a>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > initial ? (
        <button type="button" class="link small show-all" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${rows.length}`}
        </button>
      ) : null}
    </div>
  );
}
