// The time-range picker: the last 5 minutes to 30 days, or absolute from/to
// (local time). Its value is the URL form of lib/time.ts.
import { useEffect, useState } from 'preact/hooks';
import { formatRange, fromLocalInput, parseRange, presets, resolveRange, toLocalInput } from '../lib/time';

export function TimeRangePicker({ value, onChange, id = 'range' }: { value: string; onChange: (range: string) => void; id?: string }) {
  const range = parseRange(value);
  const [custom, setCustom] = useState(range.kind === 'absolute');
  const resolved = resolveRange(range);
  const [from, setFrom] = useState(toLocalInput(range.kind === 'absolute' ? range.start : resolved.start));
  const [to, setTo] = useState(toLocalInput(range.kind === 'absolute' ? range.end : Date.now() / 1000));
  useEffect(() => {
    if (range.kind === 'absolute') {
      setCustom(true);
      setFrom(toLocalInput(range.start));
      setTo(toLocalInput(range.end));
    }
  }, [value]);
  const start = fromLocalInput(from);
  const end = fromLocalInput(to);
  const valid = start !== undefined && end !== undefined && end > start;
  return (
    <div class="row time-range" style={{ alignItems: 'flex-end' }}>
      <label class="field">
        Time range
        <select
          id={id}
          value={custom ? 'custom' : range.kind === 'relative' ? range.text : 'custom'}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v === 'custom') setCustom(true);
            else {
              setCustom(false);
              onChange(v);
            }
          }}
        >
          {presets.map((p) => (
            <option value={p.text}>{p.label}</option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {custom ? (
        <>
          <label class="field">
            From
            <input type="datetime-local" step={1} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label class="field">
            To
            <input type="datetime-local" step={1} value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <button
            type="button"
            disabled={!valid}
            onClick={() => valid && onChange(formatRange({ kind: 'absolute', start: start!, end: end! }))}
          >
            Apply
          </button>
        </>
      ) : null}
    </div>
  );
}
