// The soak's reading side (bench/soak/soak.sh starts it): X-Ray API calls in a
// loop through the real @aws-sdk/client-xray, each timed, plus canary traces
// sent through the real aws-xray-sdk-core over UDP and timed until
// BatchGetTraces returns them (how long a segment takes to become queryable
// under the load).
//
//   node bench/soak/queries.mjs --endpoint http://127.0.0.1:PORT --seconds 600
//        --out queries.csv [--interval 1] [--window 300] [--canary-interval 5]
//   node bench/soak/queries.mjs --endpoint ... --check-last
//        --udp-count N --http-count N --http-connections 4 [--last 3] --after T0 --before T1
//
// Loop mode: every --interval seconds one round of
//   summaries          GetTraceSummaries, the last --window seconds, no filter
//   summaries_tenant   the same with annotation.tenant = "tenant-3" (indexed)
//   summaries_slow     the same with responsetime > 1 (not indexed)
//   batch_get          BatchGetTraces of 5 ids the unfiltered call just listed
//   service_graph      GetServiceGraph, the last --window seconds
//   timeseries         GetTimeSeriesServiceStatistics of service("web-app"),
//                      the last --window seconds, Period 60
// each a first page, one after the other; and every --canary-interval seconds
// a canary segment (UDP, the SDK) and a PutTraceSegments of one document:
//   canary_visible     from the SDK's close() (sent) to BatchGetTraces finding it
//   put_segments       the PutTraceSegments call (answered once indexed)
// CSV: t_unix,elapsed_s,query,ms,ok,items,error
// At the end it prints the canaries sent and found as JSON on stdout.
//
// Check mode (--check-last): computes the trace ids of the last segments
// ingest_load sent (its ids are a function of lane, sequence number and the
// epoch second of sending; see bench/ingest_load.cpp Stamp) for every second
// in [--after, --before], and asks BatchGetTraces for them. Prints JSON.
import { createRequire } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';

const require = createRequire(new URL('../../tests/compat/package.json', import.meta.url));
const {
  XRayClient, GetTraceSummariesCommand, BatchGetTracesCommand, GetServiceGraphCommand,
  GetTimeSeriesServiceStatisticsCommand, PutTraceSegmentsCommand,
} = require('@aws-sdk/client-xray');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const endpoint = option('--endpoint', 'http://127.0.0.1:2000');
const client = new XRayClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDSOAK', secretAccessKey: 'soak-secret-not-checked-on-loopback' },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (args.includes('--check-last')) {
  await checkLast();
} else {
  await loop();
}

// ---------------------------------------------------------------- loop mode

async function loop() {
  const seconds = Number(option('--seconds', '600'));
  const interval = Number(option('--interval', '1')) * 1000;
  const windowS = Number(option('--window', '300'));
  const canaryInterval = Number(option('--canary-interval', '5')) * 1000;
  const out = option('--out', 'queries.csv');
  writeFileSync(out, 't_unix,elapsed_s,query,ms,ok,items,error\n');
  const t0 = Date.now();
  const record = (query, ms, ok, items, error = '') => {
    const now = Date.now();
    appendFileSync(out, `${(now / 1000).toFixed(3)},${((now - t0) / 1000).toFixed(3)},${query},` +
      `${ms.toFixed(3)},${ok ? 1 : 0},${items},${String(error).replace(/[,\n]/g, ' ').slice(0, 200)}\n`);
  };
  const timed = async (query, fn) => {
    const start = process.hrtime.bigint();
    try {
      const [result, items] = await fn();
      record(query, Number(process.hrtime.bigint() - start) / 1e6, true, items);
      return result;
    } catch (e) {
      // The SDK names a reset connection (ECONNRESET, EPIPE) TimeoutError too.
      record(query, Number(process.hrtime.bigint() - start) / 1e6, false, 0,
        [e.name, e.code, e.message].filter(Boolean).join(' '));
      return undefined;
    }
  };
  const deadline = t0 + seconds * 1000;
  const canaries = startCanaries({ deadline, canaryInterval, timed, record });

  while (Date.now() < deadline) {
    const roundStart = Date.now();
    const EndTime = new Date();
    const StartTime = new Date(EndTime.getTime() - windowS * 1000);
    const summaries = await timed('summaries', async () => {
      const r = await client.send(new GetTraceSummariesCommand({ StartTime, EndTime }));
      return [r, r.TraceSummaries.length];
    });
    await timed('summaries_tenant', async () => {
      const r = await client.send(new GetTraceSummariesCommand({
        StartTime, EndTime, FilterExpression: 'annotation.tenant = "tenant-3"' }));
      return [r, r.TraceSummaries.length];
    });
    await timed('summaries_slow', async () => {
      const r = await client.send(new GetTraceSummariesCommand({
        StartTime, EndTime, FilterExpression: 'responsetime > 1' }));
      return [r, r.TraceSummaries.length];
    });
    const ids = (summaries?.TraceSummaries ?? []).slice(0, 5).map((s) => s.Id);
    if (ids.length) {
      await timed('batch_get', async () => {
        const r = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
        if (r.Traces.length !== ids.length) throw new Error(`${r.Traces.length} of ${ids.length} traces`);
        return [r, r.Traces.length];
      });
    }
    await timed('service_graph', async () => {
      const r = await client.send(new GetServiceGraphCommand({ StartTime, EndTime }));
      return [r, r.Services.length];
    });
    await timed('timeseries', async () => {
      const r = await client.send(new GetTimeSeriesServiceStatisticsCommand({
        StartTime, EndTime, EntitySelectorExpression: 'service("web-app")', Period: 60 }));
      return [r, r.TimeSeriesServiceStatistics.length];
    });
    const wait = roundStart + interval - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const result = await canaries;
  console.log(JSON.stringify(result));
}

// Every canaryInterval: one segment through aws-xray-sdk-core (UDP, the
// daemon protocol), polled with BatchGetTraces every 50 ms until found (at most
// 60 s); and one PutTraceSegments of a one-document batch.
async function startCanaries({ deadline, canaryInterval, timed, record }) {
  const AWSXRay = require('aws-xray-sdk-core');
  AWSXRay.setDaemonAddress(new URL(endpoint).host);
  AWSXRay.enableManualMode();
  AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
  const result = { udp_sent: 0, udp_found: 0, put_sent: 0, put_ok: 0, missing: [] };
  const pending = [];
  while (Date.now() < deadline) {
    const next = Date.now() + canaryInterval;
    const seg = new AWSXRay.Segment('soak-canary');
    seg.addAnnotation('soak', 'canary');
    const sentAt = process.hrtime.bigint();
    seg.close();
    result.udp_sent++;
    pending.push(pollVisible(seg.trace_id, sentAt, record).then((found) => {
      if (found) result.udp_found++;
      else result.missing.push(seg.trace_id);
    }));

    const now = Date.now() / 1000;
    const doc = JSON.stringify({
      name: 'soak-put', id: randomHex(16), trace_id: `1-${Math.floor(now).toString(16)}-${randomHex(24)}`,
      start_time: now, end_time: now + 0.01, annotations: { soak: 'put' },
    });
    result.put_sent++;
    const put = await timed('put_segments', async () => {
      const r = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [doc] }));
      if (r.UnprocessedTraceSegments?.length) throw new Error('unprocessed');
      return [r, 1];
    });
    if (put) result.put_ok++;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(pending);
  return result;
}

async function pollVisible(traceId, sentAt, record) {
  const limit = sentAt + 60_000_000_000n;
  while (process.hrtime.bigint() < limit) {
    try {
      const r = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
      if (r.Traces.length === 1) {
        // Not one call's duration: the time from sending to found.
        record('canary_visible', Number(process.hrtime.bigint() - sentAt) / 1e6, true, 1);
        return true;
      }
    } catch { /* asked again until the limit */ }
    await sleep(50);
  }
  record('canary_visible', 60_000, false, 0, 'not found in 60 s');
  return false;
}

function randomHex(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

// --------------------------------------------------------------- check mode

// ingest_load's Scramble (splitmix64's finalizer) on 64-bit values.
function scramble(v) {
  const M = (1n << 64n) - 1n;
  v = (v + 0x9e3779b97f4a7c15n) & M;
  v = ((v ^ (v >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  v = ((v ^ (v >> 27n)) * 0x94d049bb133111ebn) & M;
  return v ^ (v >> 31n);
}

function hex(v, digits) {
  return v.toString(16).padStart(digits, '0');
}

async function checkLast() {
  const udpCount = BigInt(option('--udp-count', '0'));
  const httpCount = BigInt(option('--http-count', '0'));
  const connections = Number(option('--http-connections', '4'));
  const last = BigInt(option('--last', '3'));
  const after = Math.floor(Number(option('--after')));
  const before = Math.ceil(Number(option('--before')));
  // Every id a segment could have had: ingest_load's lanes are 1 (UDP) and
  // 2 + connection (HTTP); the epoch second is that of sending.
  const wanted = [];  // { mode, seq, ids: [...] }
  const add = (mode, count, lanes) => {
    for (let seq = count - last; seq < count; seq++) {
      if (seq < 0n) continue;
      const ids = [];
      for (let t = after; t <= before; t++) {
        for (const lane of lanes) ids.push(`1-${hex(t, 8)}-${hex(lane, 8)}${hex(scramble(seq), 16)}`);
      }
      wanted.push({ mode, seq: Number(seq), ids });
    }
  };
  add('udp', udpCount, [1]);
  add('http', httpCount, Array.from({ length: connections }, (_, c) => 2 + c));
  const all = wanted.flatMap((w) => w.ids);
  const found = new Map();
  for (let i = 0; i < all.length; i += 5) {
    const r = await client.send(new BatchGetTracesCommand({ TraceIds: all.slice(i, i + 5) }));
    for (const t of r.Traces) found.set(t.Id, t.Segments.length);
  }
  const rows = wanted.map((w) => {
    const id = w.ids.find((x) => found.has(x));
    return { mode: w.mode, seq: w.seq, found: Boolean(id), id: id ?? null };
  });
  console.log(JSON.stringify({ checked: rows.length, found: rows.filter((r) => r.found).length, rows }));
}
