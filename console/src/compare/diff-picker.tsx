// A diff with a trace missing (#/diff/<a>/- or #/diff/-/<b>): choose it from
// the traces of the set it would come from (or the range's recent traces),
// or paste its id.
import { useMemo, useState } from 'preact/hooks';
import { formatHash, navigate } from '../lib/router';
import { scopeParams } from '../lib/scope';
import { describeRange, parseRange, resolveRange } from '../lib/time';
import { type CompareParams, compareHash, diffHash, setFilters } from './compare-params';
import { useSetTraces } from './data';
import { SideList } from './trace-picker';

const traceIdPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;

function MissingSide({ name, known, other, from }: { name: 'A' | 'B'; known?: string; other?: string; from?: CompareParams }) {
  const [text, setText] = useState('');
  const [picked, setPicked] = useState<string>();
  const rangeText = from?.range ?? scopeParams().range ?? '1h';
  const span = useMemo(() => resolveRange(parseRange(rangeText)), [rangeText]);
  const filters = from ? setFilters(from) : null;
  const expression = filters ? (name === 'A' ? filters.a.expression : filters.b.expression) : '';
  const traces = useSetTraces({ expression, start: span.start, end: span.end, trt: from?.trt ?? 'TraceId' });
  const use = (id: string) => navigate(name === 'A' ? diffHash(id, other, from) : diffHash(other, id, from));
  const id = text.trim().toLowerCase();
  const valid = traceIdPattern.test(id);
  const title = from ? `Traces of ${name} (${expression || 'every trace'})` : `Recent traces (${describeRange(parseRange(rangeText))})`;
  return (
    <section class="panel missing-side" aria-label={`Choose trace ${name}`}>
      <div class="panel-head">
        <h2>Choose trace {name}</h2>
        {known ? <span class="muted small">{name === 'A' ? 'B' : 'A'} is {known}</span> : null}
      </div>
      <div class="panel-body">
        <form
          class="row paste-id"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid) use(id);
          }}
        >
          <label class="field grow">
            Trace id for {name}
            <input type="text" class="mono" value={text} placeholder="1-5f84c7a1-…" onInput={(e) => setText(e.currentTarget.value)} aria-invalid={text && !valid ? true : undefined} />
          </label>
          <button type="submit" disabled={!valid}>
            Use this id
          </button>
        </form>
        {text && !valid ? <p class="small fault-text">A trace id looks like 1-5f84c7a1-e5a0d8c2b2a9d8a4c1b2c3d4.</p> : null}
        <p class="muted small">or pick one of these:</p>
        <SideList name={name} title={title} traces={traces} targetLabel="" picked={picked} onPick={setPicked} />
        <button type="button" class="primary" disabled={!picked} onClick={() => picked && use(picked)}>
          Use the picked trace as {name}
        </button>
      </div>
    </section>
  );
}

export function DiffPicker({ a, b, from }: { a?: string; b?: string; from?: CompareParams }) {
  return (
    <div class="diff-picker">
      <p class="muted">
        A trace diff needs two traces.{' '}
        {from ? <a href={compareHash(from)}>Back to the sets</a> : <a href={formatHash('compare', [], scopeParams())}>Compare sets instead</a>}
      </p>
      <div class="pick-grid">
        {a ? null : <MissingSide name="A" {...(b ? { known: b, other: b } : {})} {...(from ? { from } : {})} />}
        {b ? null : <MissingSide name="B" {...(a ? { known: a, other: a } : {})} {...(from ? { from } : {})} />}
      </div>
    </div>
  );
}
