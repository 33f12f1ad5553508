// TraceAnalytics computed in the browser from trace summaries, for a server
// without the extension (any X-Ray API): the same rules as the server's
// (src/api/trace_analytics.h) over the summaries the console could page
// through, so the comparison works everywhere and says how much it saw.
import type { RootCauseCount, TraceAnalyticsResponse, ValueCount } from '../api/analytics';
import type { AnnotationValue, RootCause, TraceSummary } from '../api/types';
import { histogramOf } from '../lib/histogram';
import { traceStatus } from '../lib/format';

class Counter<K> {
  private counts = new Map<string, { value: K; count: number }>();
  // Counts each distinct value once per call (a trace counts once per value).
  addTrace(values: K[], key: (v: K) => string = String): void {
    const seen = new Set<string>();
    for (const v of values) {
      const k = key(v);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = this.counts.get(k);
      if (e) e.count++;
      else this.counts.set(k, { value: v, count: 1 });
    }
  }
  // By count descending, ties by key ascending; the first `limit`, and the
  // summed counts of the rest.
  top(limit: number): { listed: { value: K; count: number }[]; other: number } {
    const all = [...this.counts.entries()].sort((x, y) => y[1].count - x[1].count || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const listed = all.slice(0, limit).map(([, e]) => e);
    const other = all.slice(limit).reduce((n, [, e]) => n + e.count, 0);
    return { listed, other };
  }
}

const valueCounts = <V>(c: Counter<V>, limit: number): { list: ValueCount<V>[]; other: number } => {
  const { listed, other } = c.top(limit);
  return { list: listed.map((e) => ({ Value: e.value, TraceCount: e.count })), other };
};

type Cause = Omit<RootCauseCount, 'TraceCount'>;

// The server's naming of a root cause: the last service of its path, that
// service's entity path joined with " > ", the first exception on the whole path.
export function rootCauseOf(r: RootCause): Cause {
  const last = r.Services[r.Services.length - 1];
  const out: Cause = {};
  if (last?.Name) out.Service = last.Name;
  if (last?.Type) out.Type = last.Type;
  if (last?.EntityPath.length) out.Entity = last.EntityPath.map((e) => e.Name).join(' > ');
  for (const s of r.Services) {
    for (const e of s.EntityPath) {
      const x = e.Exceptions?.find((x) => x.Name);
      if (x?.Name && out.Exception === undefined) out.Exception = x.Name;
    }
  }
  return out;
}

const causeKey = (c: Cause) => [c.Service ?? '', c.Type ?? '', c.Entity ?? '', c.Exception ?? ''].join('\u0000');

export function analyticsFromSummaries(summaries: TraceSummary[], complete: boolean, limit = 20): TraceAnalyticsResponse {
  const status = { Ok: 0, Error: 0, Throttle: 0, Fault: 0, Partial: 0 };
  const users = new Counter<string>();
  const urls = new Counter<string>();
  const methods = new Counter<string>();
  const statuses = new Counter<number>();
  const services = new Counter<{ Name?: string; Type?: string }>();
  const causes = { Fault: new Counter<Cause>(), Error: new Counter<Cause>(), ResponseTime: new Counter<Cause>() };
  const annotationKeys = new Map<string, { traces: number; values: Counter<AnnotationValue> }>();
  const responseTimes: number[] = [];
  const durations: number[] = [];
  let oldest = Infinity;

  for (const s of summaries) {
    const st = traceStatus(s);
    if (st === 'fault') status.Fault++;
    else if (st === 'throttle') status.Throttle++;
    else if (st === 'error') status.Error++;
    else status.Ok++;
    if (s.IsPartial) status.Partial++;
    if (s.ResponseTime !== undefined) responseTimes.push(s.ResponseTime);
    if (s.Duration !== undefined) durations.push(s.Duration);
    if (s.StartTime !== undefined) oldest = Math.min(oldest, s.StartTime);
    users.addTrace((s.Users ?? []).map((u) => u.UserName).filter(Boolean));
    if (s.Http?.HttpURL) urls.addTrace([s.Http.HttpURL]);
    if (s.Http?.HttpMethod) methods.addTrace([s.Http.HttpMethod]);
    if (s.Http?.HttpStatus !== undefined) statuses.addTrace([s.Http.HttpStatus]);
    services.addTrace(
      (s.ServiceIds ?? []).map((id) => ({ ...(id.Name ? { Name: id.Name } : {}), ...(id.Type ? { Type: id.Type } : {}) })),
      (id) => `${id.Name ?? ''}\u0000${id.Type ?? ''}`,
    );
    causes.Fault.addTrace((s.FaultRootCauses ?? []).map(rootCauseOf), causeKey);
    causes.Error.addTrace((s.ErrorRootCauses ?? []).map(rootCauseOf), causeKey);
    causes.ResponseTime.addTrace((s.ResponseTimeRootCauses ?? []).map(rootCauseOf), causeKey);
    for (const [key, values] of Object.entries(s.Annotations ?? {})) {
      let k = annotationKeys.get(key);
      if (!k) annotationKeys.set(key, (k = { traces: 0, values: new Counter<AnnotationValue>() }));
      k.traces++;
      k.values.addTrace(
        values.map((v) => v.AnnotationValue),
        (v) => JSON.stringify(v),
      );
    }
  }

  const list = <V>(c: Counter<V>) => valueCounts(c, limit);
  const u = list(users);
  const url = list(urls);
  const m = list(methods);
  const hs = list(statuses);
  const sv = list(services);
  const causeList = (c: Counter<Cause>) => c.top(limit).listed.map((e) => ({ ...e.value, TraceCount: e.count }));
  const keys = [...annotationKeys.entries()].sort((x, y) => y[1].traces - x[1].traces || (x[0] < y[0] ? -1 : 1));

  return {
    TraceCount: summaries.length,
    TracesProcessedCount: summaries.length,
    Complete: complete,
    ScannedFrom: Number.isFinite(oldest) ? oldest : 0,
    Status: status,
    ResponseTimeHistogram: histogramOf(responseTimes),
    DurationHistogram: histogramOf(durations),
    TimeSeries: { Period: 60, Points: [] },
    Annotations: keys.map(([key, k]) => {
      const { list: values, other } = list(k.values);
      return { Key: key, TraceCount: k.traces, Values: values, OtherValues: other };
    }),
    Users: u.list,
    Urls: url.list,
    HttpMethods: m.list,
    HttpStatuses: hs.list,
    Services: sv.list.map((v) => ({ ...v.Value, TraceCount: v.TraceCount })),
    RootCauses: { Fault: causeList(causes.Fault), Error: causeList(causes.Error), ResponseTime: causeList(causes.ResponseTime) },
    ...({ OtherUsers: u.other, OtherUrls: url.other, OtherHttpMethods: m.other, OtherHttpStatuses: hs.other, OtherServices: sv.other, OtherAnnotations: 0 } as object),
  };
}
