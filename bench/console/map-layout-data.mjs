// A synthetic service map for the console's map benchmark: `services`
// services (default 200) in layers, each calling one to three services of
// the next layer, entered from the client through the first layer; the last
// layers hold DynamoDB tables, SQL databases and remote hosts that send no
// segments (inferred nodes). Traces walk the call graph so that every edge
// appears; documents are X-Ray segment documents for PutTraceSegments.
import { rng, segmentId, traceId } from '../../tests/e2e/lib/demo-data.mjs';

const origins = ['AWS::EC2::Instance', 'AWS::ECS::Container', 'AWS::Lambda::Function', 'AWS::ElasticBeanstalk::Environment', 'AWS::EKS::Container', null];
const round6 = (x) => Math.round(x * 1e6) / 1e6;

// The graph: layers of service descriptors, and each service's callees.
export function callGraph({ services = 200, seed = 5 } = {}) {
  const random = rng(seed);
  const shares = [0.03, 0.08, 0.14, 0.18, 0.2, 0.17, 0.12, 0.08];
  const sizes = shares.map((s) => Math.max(1, Math.round(s * services)));
  sizes[4] += services - sizes.reduce((a, b) => a + b, 0);
  const layers = [];
  let n = 0;
  sizes.forEach((size, l) => {
    const layer = [];
    for (let i = 0; i < size; i++, n++) {
      // Inferred leaves only in the last two layers, half of them there.
      const inferred = l >= sizes.length - 2 && random() < 0.5;
      const kind = inferred ? ['table', 'sql', 'remote'][Math.floor(random() * 3)] : 'service';
      const name =
        kind === 'table' ? `table-${n}` : kind === 'sql' ? `db-${n}` : kind === 'remote' ? `api-${n}.partner.example.com` : `svc-l${l}-${String(i).padStart(2, '0')}`;
      layer.push({ id: n, layer: l, name, kind, origin: kind === 'service' ? origins[n % origins.length] : null, callees: [], callers: [] });
    }
    layers.push(layer);
  });
  for (let l = 0; l < layers.length - 1; l++) {
    const next = layers[l + 1];
    for (const s of layers[l]) {
      if (s.kind !== 'service') continue;
      // Callees near the caller's place in its layer: services form domains
      // that call their own back ends, as real systems do, with a few calls
      // across (a shared table, another domain's API).
      const k = 1 + Math.floor(random() * 3);
      const at = ((layers[l].indexOf(s) + 0.5) / layers[l].length) * next.length;
      for (let j = 0; j < k; j++) {
        const across = random() < 0.1;
        const pick = across ? random() * next.length : at + (random() - 0.5) * 6;
        const t = next[Math.min(next.length - 1, Math.max(0, Math.floor(pick)))];
        if (!s.callees.includes(t)) {
          s.callees.push(t);
          t.callers.push(s);
        }
      }
    }
    // Everyone in the next layer has a caller (a service, not an inferred node).
    const callers = layers[l].filter((s) => s.kind === 'service');
    for (const [i, t] of next.entries()) {
      if (t.callers.length || !callers.length) continue;
      const s = callers[Math.min(callers.length - 1, Math.floor(((i + 0.5) / next.length) * callers.length))];
      s.callees.push(t);
      t.callers.push(s);
    }
  }
  return layers;
}

// Traces over the last `spreadSeconds`: first one per edge (a path from an
// entry to the edge, then on to a leaf), then random walks for volume.
export function mapDocuments({ services = 200, traces = 2500, spreadSeconds = 1800, now = Date.now() / 1000, seed = 9 } = {}) {
  const random = rng(seed);
  const layers = callGraph({ services, seed });
  const all = layers.flat();
  const documents = [];
  const walks = [];
  for (const s of all) {
    for (const t of s.callees) {
      const path = [s];
      while (path[0].layer > 0) path.unshift(path[0].callers[Math.floor(random() * path[0].callers.length)]);
      path.push(t);
      walks.push(path);
    }
  }
  while (walks.length < traces) {
    const entry = layers[0][Math.floor(random() * layers[0].length)];
    const path = [entry];
    while (path[path.length - 1].callees.length) {
      const c = path[path.length - 1].callees;
      path.push(c[Math.floor(random() * c.length)]);
    }
    walks.push(path);
  }
  walks.forEach((path, i) => {
    // Extend a covering path on to a leaf.
    while (path[path.length - 1].kind === 'service' && path[path.length - 1].callees.length) {
      const c = path[path.length - 1].callees;
      path.push(c[Math.floor(random() * c.length)]);
    }
    const start = now - spreadSeconds + (spreadSeconds * i) / walks.length;
    documents.push(...traceDocs(random, path, start));
  });
  return { documents, services: all.length, edges: all.reduce((n, s) => n + s.callees.length, 0) + layers[0].length, traces: walks.length };
}

// One trace along `path`: a segment per service that sends one, each with
// a subsegment calling the next; an inferred callee ends the trace.
function traceDocs(random, path, start) {
  const id = traceId(random, start);
  const total = 0.05 + random() * 0.5;
  const r = random();
  const failAt = r < 0.04 ? 'fault' : r < 0.07 ? 'throttle' : r < 0.12 ? 'error' : null;
  const failing = failAt ? Math.floor(random() * path.length) : -1;
  const docs = [];
  let parent = null;
  for (let i = 0; i < path.length; i++) {
    const s = path[i];
    if (s.kind !== 'service') break;
    const t0 = start + (total * i) / (path.length * 2);
    const t1 = start + total - (total * i) / (path.length * 2);
    const fail = i >= failing && failing >= 0 ? failAt : null;
    const status = fail === 'fault' ? 502 : fail === 'throttle' ? 429 : fail === 'error' ? 400 : 200;
    const segment = {
      name: s.name,
      id: segmentId(random),
      trace_id: id,
      start_time: round6(t0),
      end_time: round6(t1),
      http: { request: { method: 'GET', url: `http://${s.name}.internal/work` }, response: { status } },
      ...(s.origin ? { origin: s.origin } : {}),
      ...(parent ? { parent_id: parent } : {}),
      ...(fail === 'fault' ? { fault: true } : fail === 'error' ? { error: true } : fail === 'throttle' ? { error: true, throttle: true } : {}),
      subsegments: [],
    };
    const next = path[i + 1];
    if (next) {
      const callId = segmentId(random);
      const c0 = t0 + (t1 - t0) * 0.1;
      const c1 = t1 - (t1 - t0) * 0.1;
      const call = { id: callId, name: next.name, start_time: round6(c0), end_time: round6(c1), http: { response: { status } } };
      if (next.kind === 'table') Object.assign(call, { name: 'DynamoDB', namespace: 'aws', aws: { operation: 'GetItem', table_name: next.name } });
      else if (next.kind === 'sql') Object.assign(call, { namespace: 'remote', sql: { url: `postgresql://${next.name}:5432/app`, database_type: 'PostgreSQL' } });
      else if (next.kind === 'remote') Object.assign(call, { namespace: 'remote', http: { request: { method: 'GET', url: `https://${next.name}/v1` }, response: { status } } });
      else Object.assign(call, { namespace: 'remote', http: { request: { method: 'GET', url: `http://${next.name}.internal/work`, traced: true }, response: { status } } });
      segment.subsegments.push(call);
      parent = callId;
    }
    docs.push(segment);
  }
  return docs;
}
