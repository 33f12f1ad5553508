// Summarizes a soak run's CSVs (bench/soak/soak.sh writes them into --out):
//   node bench/soak/summarize.mjs DIR
// reads DIR/samples.csv, DIR/queries.csv and DIR/run.json, writes
//   DIR/summary.md     RSS start/mid/end/max, latency p50/p95/p99 per query over
//                      the run, in the last minute and per minute, ingest achieved
//   DIR/summary.json   the same figures
//   DIR/latency.dat    p50/p95 per query per --bucket seconds (gnuplot, one block a query)
//   DIR/samples.dat    samples.csv with minutes and MiB (gnuplot)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const bucketS = Number(process.argv[3] ?? 30);
const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));

function readCsv(path) {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.filter(Boolean).map((line) => {
    const v = line.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, v[i] !== undefined && v[i] !== '' && !isNaN(v[i]) ? Number(v[i]) : v[i]]));
  });
}

const samples = readCsv(join(dir, 'samples.csv'));
const queries = readCsv(join(dir, 'queries.csv'));
const t0 = run.load_start_unix;  // the time zero of the plots and the minutes
const tEnd = run.load_end_unix;
const durationS = tEnd - t0;
const mib = (kb) => kb / 1024;
const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

function pct(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  // nearest rank
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}
function stats(values) {
  return { n: values.length, p50: pct(values, 0.5), p95: pct(values, 0.95), p99: pct(values, 0.99), max: values.length ? Math.max(...values) : NaN };
}

// ------------------------------------------------------------------ memory
const during = samples.filter((s) => s.t_unix >= t0 && s.t_unix <= tEnd);
const nearest = (t) => during.reduce((a, b) => (Math.abs(b.t_unix - t) < Math.abs(a.t_unix - t) ? b : a));
const first = during[0];
const idle = samples.filter((s) => s.t_unix < t0).pop() ?? first;
const mid = nearest(t0 + durationS / 2);
const last = during[during.length - 1];
const maxRss = during.reduce((a, b) => (b.rss_kb > a.rss_kb ? b : a));
// Least-squares slope of RSS over the second half (MiB per minute): near zero
// when memory has levelled off.
// `of`: what is fitted, by default RSS.
function slope(rows, of = (r) => mib(r.rss_kb)) {
  const xs = rows.map((r) => (r.t_unix - t0) / 60);
  const ys = rows.map(of);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : NaN;
}
const rest = (r) => mib(r.rss_kb) - (r.memtable_bytes + r.block_cache_bytes) / 2 ** 20;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const secondHalf = during.filter((s) => s.t_unix >= t0 + durationS / 2);
const lastMinute = during.filter((s) => s.t_unix >= tEnd - 60);
const memory = {
  rss_idle_mib: mib(idle.rss_kb),
  rss_start_mib: mib(first.rss_kb), rss_start_at_s: first.t_unix - t0,
  rss_mid_mib: mib(mid.rss_kb), rss_mid_at_s: mid.t_unix - t0,
  rss_end_mib: mib(last.rss_kb), rss_end_at_s: last.t_unix - t0,
  rss_max_mib: mib(maxRss.rss_kb), rss_max_at_s: maxRss.t_unix - t0,
  rss_peak_hwm_mib: mib(Math.max(...during.map((s) => s.hwm_kb))),
  rss_second_half_slope_mib_per_min: slope(secondHalf),
  // What is left once the two capped caches are taken out: the trace cache,
  // the allocator's retained pages, compaction and query buffers, the rest.
  rest_second_half_slope_mib_per_min: slope(secondHalf, rest),
  rest_first_half_mean_mib: mean(during.filter((s) => s.t_unix < t0 + durationS / 2).map(rest)),
  rest_second_half_mean_mib: mean(secondHalf.map(rest)),
  rest_max_mib: Math.max(...during.map(rest)),
  rss_last_minute_min_mib: mib(Math.min(...lastMinute.map((s) => s.rss_kb))),
  rss_last_minute_max_mib: mib(Math.max(...lastMinute.map((s) => s.rss_kb))),
  memtable_end_mib: last.memtable_bytes / 2 ** 20,
  memtable_max_mib: Math.max(...during.map((s) => s.memtable_bytes)) / 2 ** 20,
  block_cache_end_mib: last.block_cache_bytes / 2 ** 20,
  block_cache_max_mib: Math.max(...during.map((s) => s.block_cache_bytes)) / 2 ** 20,
  threads_start: first.threads, threads_end: last.threads,
  fds_start: first.fds, fds_end: last.fds,
};
const loads = during.map((s) => s.load1);
const machine = {
  load1_min: Math.min(...loads), load1_mean: loads.reduce((a, b) => a + b, 0) / loads.length, load1_max: Math.max(...loads),
  server_cpu_s: last.cpu_s - first.cpu_s,
  server_cpu_pct_of_core: (100 * (last.cpu_s - first.cpu_s)) / (last.t_unix - first.t_unix),
  data_dir_end_mib: last.data_bytes / 2 ** 20,
  spool_backlog_max_mib: Math.max(...during.map((s) => s.spool_backlog_bytes)) / 2 ** 20,
  queue_depth_max: Math.max(...during.map((s) => s.queue_depth)),
  pending_compaction_max_mib: Math.max(...during.map((s) => s.pending_compaction_bytes)) / 2 ** 20,
  writes_stalled_samples: during.filter((s) => s.writes_stalled > 0).length,
};

// ------------------------------------------------------------------ latency
const names = [...new Set(queries.map((q) => q.query))];
const order = ['summaries', 'summaries_tenant', 'summaries_slow', 'batch_get', 'service_graph', 'timeseries', 'put_segments', 'canary_visible'];
names.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
const inRun = queries.filter((q) => q.t_unix >= t0 && q.t_unix <= tEnd + 60);
const latency = {};
for (const name of names) {
  const rows = inRun.filter((q) => q.query === name);
  const ok = rows.filter((q) => q.ok === 1);
  const minutes = [];
  for (let m = 0; m < Math.max(1, Math.round(durationS / 60)); m++) {
    minutes.push(stats(ok.filter((q) => q.t_unix >= t0 + m * 60 && q.t_unix < t0 + (m + 1) * 60).map((q) => q.ms)));
  }
  latency[name] = {
    run: stats(ok.map((q) => q.ms)),
    last_minute: stats(ok.filter((q) => q.t_unix >= tEnd - 60).map((q) => q.ms)),
    errors: rows.length - ok.length,
    error_kinds: [...new Set(rows.filter((q) => q.ok !== 1).map((q) => q.error))],
    mean_items: ok.length ? ok.reduce((a, q) => a + q.items, 0) / ok.length : NaN,
    min_items: ok.length ? Math.min(...ok.map((q) => q.items)) : NaN,
    per_minute: minutes,
  };
}

// ---------------------------------------------------------------- gnuplot data
const dat = [];
for (const name of names) {
  dat.push(`# ${name}`);
  const ok = queries.filter((q) => q.query === name && q.ok === 1);
  for (let b = 0; b * bucketS < durationS; b++) {
    const xs = ok.filter((q) => q.t_unix >= t0 + b * bucketS && q.t_unix < t0 + (b + 1) * bucketS).map((q) => q.ms);
    if (xs.length) dat.push(`${((b + 0.5) * bucketS / 60).toFixed(3)} ${pct(xs, 0.5)} ${pct(xs, 0.95)}`);
  }
  dat.push('', '');
}
writeFileSync(join(dir, 'latency.dat'), dat.join('\n'));
writeFileSync(join(dir, 'latency-names.txt'), names.join(' '));
writeFileSync(join(dir, 'samples.dat'), '# minutes rss_mib memtable_mib block_cache_mib data_dir_mib load1\n' + samples
  .filter((s) => s.t_unix >= t0 - 10)
  .map((s) => [((s.t_unix - t0) / 60).toFixed(3), mib(s.rss_kb).toFixed(1), (s.memtable_bytes / 2 ** 20).toFixed(1),
    (s.block_cache_bytes / 2 ** 20).toFixed(1), (s.data_bytes / 2 ** 20).toFixed(1), s.load1].join(' '))
  .join('\n') + '\n');

// ------------------------------------------------------------------ report
const summary = { run, memory, machine, latency };
writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));

const md = [];
md.push(`# Soak run ${run.started}`, '');
md.push(`- server: \`${run.server_command}\``);
md.push(`- load: UDP ${run.udp_rate}/s (\`${run.udp_command}\`), PutTraceSegments ${run.http_rate}/s (\`${run.http_command}\`)`);
md.push(`- queries: \`${run.query_command}\``);
md.push(`- machine: ${run.machine}; load average during the run ${fmt(machine.load1_min, 2)}–${fmt(machine.load1_max, 2)} (mean ${fmt(machine.load1_mean, 2)})`);
md.push(`- binary: ${run.version}`, '');
md.push('## Ingest', '');
const n = (x) => (x ?? 0).toLocaleString('en-US');
const acked = run.acked_total ?? run.sent_total;
md.push(`| sent (UDP + HTTP + canaries) | acknowledged or UDP | stored | achieved | dropped | rejected | UDP datagrams dropped | last traces sent found |`);
md.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
md.push(`| ${n(run.sent_total)} (${n(run.udp_sent ?? run.udp_count)} + ${n(run.http_sent ?? run.http_count)} + ${run.canaries_sent}) | ${n(acked)} | ${n(run.stored_total)} | ${fmt(run.stored_total / durationS, 0)}/s over ${fmt(durationS, 0)} s | ${run.dropped_total} | ${run.rejected_total} | ${run.udp_dropped_total} | ${run.check_last.found} of ${run.check_last.checked} |`);
md.push('', `UDP canaries (aws-xray-sdk-core) found by BatchGetTraces: ${run.canaries.udp_found} of ${run.canaries.udp_sent}; PutTraceSegments canaries answered 200: ${run.canaries.put_ok} of ${run.canaries.put_sent}.`);
md.push(`Server CPU ${fmt(machine.server_cpu_s)} s (${fmt(machine.server_cpu_pct_of_core, 0)}% of one core); data dir at the end ${fmt(machine.data_dir_end_mib, 0)} MiB; spool backlog max ${fmt(machine.spool_backlog_max_mib)} MiB; ingest queue max ${machine.queue_depth_max}; pending compaction max ${fmt(machine.pending_compaction_max_mib)} MiB; samples with writes stalled ${machine.writes_stalled_samples}.`);
md.push(`Stop: SIGTERM to exit ${fmt(run.stop_seconds, 2)} s, exit status ${run.server_exit}.`, '');
md.push('## Memory', '');
md.push('| RSS before the load | start | mid | end | max sampled | peak (VmHWM) | slope, second half | last minute | memtables end (max) | block cache end (max) | RSS − memtables − block cache: mean first half / second half, slope second half | threads | fds |');
md.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
md.push(`| ${fmt(memory.rss_idle_mib, 0)} MiB | ${fmt(memory.rss_start_mib, 0)} MiB (${fmt(memory.rss_start_at_s, 0)} s) | ${fmt(memory.rss_mid_mib, 0)} MiB (${fmt(memory.rss_mid_at_s, 0)} s) | ${fmt(memory.rss_end_mib, 0)} MiB (${fmt(memory.rss_end_at_s, 0)} s) | ${fmt(memory.rss_max_mib, 0)} MiB (${fmt(memory.rss_max_at_s, 0)} s) | ${fmt(memory.rss_peak_hwm_mib, 0)} MiB | ${fmt(memory.rss_second_half_slope_mib_per_min)} MiB/min | ${fmt(memory.rss_last_minute_min_mib, 0)}–${fmt(memory.rss_last_minute_max_mib, 0)} MiB | ${fmt(memory.memtable_end_mib, 0)} (${fmt(memory.memtable_max_mib, 0)}) MiB | ${fmt(memory.block_cache_end_mib, 0)} (${fmt(memory.block_cache_max_mib, 0)}) MiB | ${fmt(memory.rest_first_half_mean_mib, 0)} / ${fmt(memory.rest_second_half_mean_mib, 0)} MiB, ${fmt(memory.rest_second_half_slope_mib_per_min)} MiB/min | ${memory.threads_start} → ${memory.threads_end} | ${memory.fds_start} → ${memory.fds_end} |`, '');
md.push('## Latency (ms)', '');
md.push('| call | n | p50 | p95 | p99 | max | last minute p50 / p95 / p99 | errors | items: mean (min) |');
md.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const name of names) {
  const l = latency[name];
  md.push(`| ${name} | ${l.run.n} | ${fmt(l.run.p50)} | ${fmt(l.run.p95)} | ${fmt(l.run.p99)} | ${fmt(l.run.max)} | ${fmt(l.last_minute.p50)} / ${fmt(l.last_minute.p95)} / ${fmt(l.last_minute.p99)} | ${l.errors}${l.errors ? ` (${l.error_kinds.join('; ')})` : ''} | ${fmt(l.mean_items)} (${l.min_items}) |`);
}
md.push('', '### Per minute (p50 / p95 / p99 ms)', '');
const nMin = Math.max(...names.map((n) => latency[n].per_minute.length));
md.push(`| call | ${Array.from({ length: nMin }, (_, m) => `min ${m + 1}`).join(' | ')} |`);
md.push(`| --- | ${Array.from({ length: nMin }, () => '---').join(' | ')} |`);
for (const name of names) {
  md.push(`| ${name} | ${latency[name].per_minute.map((s) => (s.n ? `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)}` : '–')).join(' | ')} |`);
}
md.push('');
writeFileSync(join(dir, 'summary.md'), md.join('\n'));
console.log(md.join('\n'));
