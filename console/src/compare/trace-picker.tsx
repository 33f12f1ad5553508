// From sets to single traces: each set lists some of its traces (the most
// recent, the slowest, or those nearest its typical response time); pick one
// on each side and diff them span by span, or let the console pick a typical
// pair (A near its p90, B near its median).
import { useState } from 'preact/hooks';
import type { TraceSummary } from '../api/types';
import { addTerm, responseTimeTerm } from '../lib/filter';
import { formatDuration, traceStatus } from '../lib/format';
import { navigate } from '../lib/router';
import { formatTimestamp } from '../lib/time';
import { ErrorBanner, Loading, StatusBadge } from '../ui/common';
import { type CompareParams, diffHash } from './compare-params';
import { type Async, loadSummaries, type SetQuery, useSetTraces } from './data';
import { baselineQuantile, type ListOrder, nearestTrace, orderTraces, selectionQuantile, windowAround } from './typical';

export interface SideProps {
  name: 'A' | 'B';
  title?: string;
  traces: Async<{ summaries: TraceSummary[]; complete: boolean }>;
  target?: number; // the side's typical response time
  targetLabel: string;
  picked: string | undefined;
  onPick: (id: string) => void;
}

export function SideList({ name, title, traces, target, targetLabel, picked, onPick }: SideProps) {
  const [order, setOrder] = useState<ListOrder>('recent');
  const all = traces.data?.summaries ?? [];
  const rows = orderTraces(all, order, target, 20);
  const id = `pick-${name.toLowerCase()}`;
  return (
    <div class={`pick-side side-${name.toLowerCase()}`}>
      <div class="row pick-head">
        <span class={`side-badge side-${name.toLowerCase()}`}>{name}</span>
        <strong>{title ?? (name === 'A' ? 'Selection' : 'Baseline')}</strong>
        <span class="spacer grow" />
        <label class="inline small">
          Show
          <select aria-label={`Order of ${name}'s traces`} value={order} onChange={(e) => setOrder(e.currentTarget.value as ListOrder)}>
            <option value="recent">most recent</option>
            <option value="slowest">slowest</option>
            <option value="typical" disabled={target === undefined}>
              nearest {targetLabel}
            </option>
          </select>
        </label>
      </div>
      <ErrorBanner error={traces.error} context={`Traces of ${name}`} />
      {traces.loading ? <Loading label="Loading traces" /> : null}
      {traces.data && !rows.length ? <p class="empty small">No traces in this set.</p> : null}
      {rows.length ? (
        <table class="data pick-table" aria-label={`Traces of ${name}: pick one to compare`}>
          <thead>
            <tr>
              <th scope="col">
                <span class="sr-only">Pick</span>
              </th>
              <th scope="col">Start</th>
              <th scope="col" class="num">Response</th>
              <th scope="col">Status</th>
              <th scope="col">URL</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr class={picked === s.Id ? 'picked' : ''} onClick={() => onPick(s.Id)}>
                <td>
                  <input
                    type="radio"
                    name={id}
                    value={s.Id}
                    checked={picked === s.Id}
                    aria-label={`Trace ${s.Id}`}
                    onChange={() => onPick(s.Id)}
                  />
                </td>
                <td class="small">{s.StartTime !== undefined ? formatTimestamp(s.StartTime) : '—'}</td>
                <td class="num">{formatDuration(s.ResponseTime)}</td>
                <td>
                  <StatusBadge status={traceStatus(s)} partial={s.IsPartial} />
                </td>
                <td class="small ellipsis url-cell" title={s.Http?.HttpURL ?? ''}>
                  {s.Http?.HttpURL ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {traces.data ? (
        <p class="muted small">
          {rows.length} of the {traces.data.complete ? '' : 'most recent '}
          {traces.data.summaries.length} traces loaded
        </p>
      ) : null}
    </div>
  );
}

interface Props {
  params: CompareParams;
  a: SetQuery | null;
  b: SetQuery | null;
  aTarget?: number; // A's p90
  bTarget?: number; // B's median
}

export function TracePicker({ params, a, b, aTarget, bTarget }: Props) {
  const aTraces = useSetTraces(a);
  const bTraces = useSetTraces(b);
  const [pickA, setPickA] = useState<string>();
  const [pickB, setPickB] = useState<string>();
  const [finding, setFinding] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // A trace of the set near `target`: asked of the server in a narrow window
  // (the loaded page may not hold one), else the nearest loaded one.
  const typical = async (q: SetQuery, loaded: TraceSummary[], target: number | undefined) => {
    if (target === undefined) return loaded[0];
    const [lo, hi] = windowAround(target);
    const near = await loadSummaries({ ...q, expression: addTerm(q.expression ? `(${q.expression})` : '', responseTimeTerm(lo, hi)) }, 100);
    return nearestTrace(near.summaries, target) ?? nearestTrace(loaded, target);
  };
  const pickTypical = async () => {
    if (!a || !b) return;
    setFinding(true);
    setError(null);
    try {
      const [ta, tb] = await Promise.all([typical(a, aTraces.data?.summaries ?? [], aTarget), typical(b, bTraces.data?.summaries ?? [], bTarget)]);
      navigate(diffHash(ta?.Id, tb?.Id, params));
    } catch (e) {
      setError(e);
    } finally {
      setFinding(false);
    }
  };

  return (
    <section class="panel pick-panel" aria-label="Compare single traces">
      <div class="panel-head">
        <h2>Single traces</h2>
        <span class="muted small">pick one trace of each set to diff them span by span</span>
        <span class="spacer" />
        <button
          type="button"
          onClick={pickTypical}
          disabled={finding || !a || !b}
          title={`A trace of A near its p90 (${formatDuration(aTarget)}) and one of B near its median (${formatDuration(bTarget)})`}
        >
          {finding ? 'Finding…' : 'Compare a typical trace of each set'}
        </button>
        <button type="button" class="primary" disabled={!pickA && !pickB} onClick={() => navigate(diffHash(pickA, pickB, params))}>
          Compare selected traces
        </button>
      </div>
      <ErrorBanner error={error} context="Finding typical traces" />
      <div class="pick-grid">
        <SideList name="A" traces={aTraces} target={aTarget} targetLabel={`p${selectionQuantile * 100}`} picked={pickA} onPick={setPickA} />
        <SideList name="B" traces={bTraces} target={bTarget} targetLabel={`p${baselineQuantile * 100}`} picked={pickB} onPick={setPickB} />
      </div>
    </section>
  );
}
