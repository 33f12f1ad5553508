// Realistic X-Ray segment documents for the console's tests, benchmarks and
// screenshots: the seed's scenario (a browser app → an AppSync GraphQL API →
// a Lambda function → DynamoDB), each trace annotated with the signed-in
// user's email, with errors, faults (and their exceptions with stack
// frames), throttles, SQL calls, in-progress segments, repeated sibling calls
// and linked traces. Deterministic for a given seed, and every trace's facts
// are returned so a test can compute exactly which traces a filter matches.

// A small deterministic PRNG (mulberry32).
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (random, n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
  return s;
};

export const traceId = (random, epochSeconds) =>
  `1-${Math.floor(epochSeconds).toString(16).padStart(8, '0')}-${hex(random, 24)}`;
export const segmentId = (random) => hex(random, 16);

export const users = [
  'alice@example.com',
  'bob@example.com',
  'carol@example.com',
  'dave@example.com',
  'erin@example.com',
  'frank@example.com',
];
const operations = [
  { field: 'createNote', method: 'POST', kind: 'Mutation' },
  { field: 'listNotes', method: 'POST', kind: 'Query' },
  { field: 'getNote', method: 'POST', kind: 'Query' },
  { field: 'deleteNote', method: 'POST', kind: 'Mutation' },
];

const round6 = (x) => Math.round(x * 1e6) / 1e6;

function stack(random, fn) {
  return [
    { path: '/var/task/node_modules/@aws-sdk/client-dynamodb/dist-cjs/index.js', line: 2210 + Math.floor(random() * 40), label: 'de_ProvisionedThroughputExceededExceptionRes' },
    { path: '/var/task/src/notes.js', line: 41, label: fn },
    { path: '/var/task/src/handler.js', line: 17, label: 'exports.handler' },
  ];
}

// One trace of the scenario. `kind`: ok | error | fault | throttle.
function scenarioTrace(random, start, { email, kind, op, inProgress = false, linkTo = null }) {
  const id = traceId(random, start);
  const browserId = segmentId(random);
  const fetchId = segmentId(random);
  const apiId = segmentId(random);
  const resolverId = segmentId(random);
  const invokeId = segmentId(random);
  const lambdaId = segmentId(random);
  const fnId = segmentId(random);
  const latency = {
    ok: 0.04 + random() * 0.25,
    error: 0.03 + random() * 0.05,
    fault: 0.3 + random() * 0.6,
    throttle: 0.15 + random() * 0.2,
  }[kind];
  const slow = random() < 0.06 ? 1.2 + random() * 2.5 : 0; // a slow tail
  const total = latency + slow;
  const t0 = start;
  const status = { ok: 200, error: 400, fault: 502, throttle: 429 }[kind];
  const url = `https://notes.example.com/graphql/${op.field}`;
  const docs = [];

  const fnStart = t0 + total * 0.15;
  const fnEnd = t0 + total * 0.9;
  const dynamoCalls = op.field === 'listNotes' ? 12 + Math.floor(random() * 10) : 1;
  const fnSubs = [];
  let t = fnStart + (fnEnd - fnStart) * 0.02;
  const per = ((fnEnd - fnStart) * 0.96) / (dynamoCalls + 1);
  for (let i = 0; i < dynamoCalls; i++) {
    const callFails = kind === 'throttle' && i === dynamoCalls - 1;
    fnSubs.push({
      id: segmentId(random),
      name: 'DynamoDB',
      namespace: 'aws',
      start_time: round6(t),
      end_time: round6(t + per * 0.9),
      ...(callFails ? { throttle: true, error: true } : {}),
      http: { response: { status: callFails ? 400 : 200 } },
      aws: {
        operation: op.field === 'listNotes' ? 'GetItem' : op.field === 'createNote' ? 'PutItem' : op.field === 'deleteNote' ? 'DeleteItem' : 'GetItem',
        region: 'us-east-1',
        request_id: hex(random, 32).toUpperCase(),
        table_name: 'notes',
        retries: callFails ? 3 : 0,
      },
      ...(callFails
        ? {
            cause: {
              working_directory: '/var/task',
              exceptions: [{ id: segmentId(random), message: 'Rate of requests exceeds the allowed throughput.', type: 'ProvisionedThroughputExceededException', remote: true, stack: stack(random, op.field) }],
            },
          }
        : {}),
    });
    t += per;
  }
  if (op.field === 'listNotes') {
    fnSubs.push({
      id: segmentId(random),
      name: 'reports-db',
      namespace: 'remote',
      start_time: round6(t),
      end_time: round6(Math.min(fnEnd, t + per * 0.8)),
      sql: {
        url: 'postgresql://reports.internal:5432/reports',
        database_type: 'PostgreSQL',
        database_version: '15.4',
        driver_version: 'pg 8.11',
        user: 'reports_ro',
        preparation: 'prepared',
        sanitized_query: 'SELECT id, title FROM notes_index WHERE owner = $1 ORDER BY updated DESC LIMIT 50',
      },
    });
  }
  const fnSegment = {
    name: 'notes-fn',
    id: fnId,
    trace_id: id,
    parent_id: lambdaId,
    start_time: round6(fnStart),
    end_time: round6(fnEnd),
    origin: 'AWS::Lambda::Function',
    resource_arn: 'arn:aws:lambda:us-east-1:123456789012:function:notes-fn',
    annotations: { email, operation: op.field },
    metadata: { default: { request: { field: op.field, args: { limit: 50 } } }, 'notes.app': { cold_start: random() < 0.1 } },
    aws: { account_id: '123456789012', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:notes-fn', resource_names: ['notes-fn'] },
    ...(kind === 'fault' ? { fault: true } : {}),
    ...(kind === 'throttle' ? { error: true } : {}),
    ...(kind === 'fault'
      ? {
          cause: {
            working_directory: '/var/task',
            exceptions: [
              {
                id: segmentId(random),
                message: `Cannot read properties of undefined (reading 'owner')`,
                type: 'TypeError',
                stack: [
                  { path: '/var/task/src/notes.js', line: 88, label: 'toNote' },
                  { path: '/var/task/src/notes.js', line: 52, label: op.field },
                  { path: '/var/task/src/handler.js', line: 17, label: 'exports.handler' },
                ],
              },
            ],
          },
        }
      : {}),
    subsegments: fnSubs,
  };
  if (linkTo) fnSegment.links = [{ trace_id: linkTo, id: segmentId(random), attributes: { 'messaging.system': 'aws_sqs' } }];

  const lambdaSegment = {
    name: 'notes-fn',
    id: lambdaId,
    trace_id: id,
    parent_id: invokeId,
    start_time: round6(fnStart - total * 0.02),
    end_time: round6(fnEnd + total * 0.01),
    origin: 'AWS::Lambda',
    http: { response: { status: 200 } },
    // The function's unhandled error faults the invocation as Lambda reports it.
    ...(kind === 'fault' ? { fault: true } : {}),
    aws: { request_id: hex(random, 32) },
    resource_arn: 'arn:aws:lambda:us-east-1:123456789012:function:notes-fn',
  };

  const apiSegment = {
    name: 'notes-api',
    id: apiId,
    trace_id: id,
    parent_id: fetchId,
    start_time: round6(t0 + total * 0.05),
    end_time: round6(t0 + total * 0.97),
    origin: 'AWS::AppSync::GraphQLAPI',
    http: { request: { method: 'POST', url: 'https://api.notes.example.com/graphql' }, response: { status } },
    user: email,
    annotations: { email, graphql_operation: `${op.kind}.${op.field}` },
    aws: { api_id: 'notesapi123', account_id: '123456789012' },
    ...(kind === 'fault' ? { fault: true } : {}),
    ...(kind === 'error' ? { error: true } : {}),
    ...(kind === 'throttle' ? { error: true, throttle: true } : {}),
    subsegments: [
      {
        id: resolverId,
        name: `${op.kind}.${op.field}`,
        ...(kind === 'fault' ? { fault: true } : {}),
        start_time: round6(t0 + total * 0.07),
        end_time: round6(t0 + total * 0.95),
        subsegments:
          kind === 'error'
            ? []
            : [
                {
                  id: invokeId,
                  name: 'Lambda',
                  namespace: 'aws',
                  start_time: round6(t0 + total * 0.1),
                  end_time: round6(fnEnd + total * 0.02),
                  aws: { operation: 'Invoke', function_name: 'notes-fn', region: 'us-east-1' },
                  http: { response: { status: 200 } },
                  ...(kind === 'fault' ? { fault: true } : {}),
                },
              ],
      },
    ],
  };
  if (kind === 'error') {
    apiSegment.cause = { exceptions: [{ id: segmentId(random), type: 'ValidationError', message: `Variable 'input' has an invalid value: title must not be empty` }] };
  }

  const browserSegment = {
    name: 'Web-Application',
    id: browserId,
    trace_id: id,
    start_time: round6(t0),
    end_time: round6(t0 + total),
    http: {
      request: { method: op.method, url, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0', client_ip: '203.0.113.7' },
      response: { status },
    },
    user: email,
    annotations: { email, page: op.field === 'listNotes' ? '/notes' : '/notes/edit' },
    ...(kind === 'fault' ? { fault: true } : {}),
    ...(kind === 'error' ? { error: true } : {}),
    ...(kind === 'throttle' ? { error: true, throttle: true } : {}),
    subsegments: [
      {
        id: fetchId,
        name: 'api.notes.example.com',
        namespace: 'remote',
        start_time: round6(t0 + total * 0.01),
        end_time: round6(t0 + total * 0.99),
        http: { request: { method: 'POST', url: 'https://api.notes.example.com/graphql', traced: true }, response: { status } },
        ...(kind === 'fault' ? { fault: true } : {}),
        ...(kind === 'error' ? { error: true } : {}),
        ...(kind === 'throttle' ? { error: true, throttle: true } : {}),
      },
    ],
  };
  if (inProgress) {
    delete fnSegment.end_time;
    fnSegment.in_progress = true;
    fnSegment.subsegments = fnSubs.slice(0, 1);
  }
  docs.push(browserSegment, apiSegment);
  if (kind !== 'error') docs.push(lambdaSegment, fnSegment);
  return {
    docs,
    trace: {
      id,
      email,
      kind,
      partial: inProgress,
      operation: op.field,
      url,
      method: op.method,
      status,
      start: t0,
      responseTime: round6(round6(t0 + total) - round6(t0)),
    },
  };
}

// `count` scenario traces spread over the last `spreadSeconds` before `now`
// (epoch seconds). Returns the documents (as objects) and each trace's facts.
export function scenario({ now = Date.now() / 1000, count = 200, spreadSeconds = 1800, seed = 42 } = {}) {
  const random = rng(seed);
  const documents = [];
  const traces = [];
  for (let i = 0; i < count; i++) {
    const start = now - spreadSeconds + (spreadSeconds * i) / count + random() * 0.5;
    const r = random();
    const kind = r < 0.07 ? 'fault' : r < 0.12 ? 'throttle' : r < 0.2 ? 'error' : 'ok';
    const email = users[Math.floor(random() * users.length)];
    const op = operations[Math.floor(random() * operations.length)];
    const inProgress = kind === 'ok' && random() < 0.03;
    const linkTo = traces.length > 0 && random() < 0.05 ? traces[traces.length - 1].id : null;
    const { docs, trace } = scenarioTrace(random, start, { email, kind, op, inProgress, linkTo });
    documents.push(...docs);
    traces.push({ ...trace, linkedTo: linkTo });
  }
  return { documents, traces };
}

// One trace with about `spans` segments and subsegments: a gateway fanning out
// to `services` services, each segment with a tree of subsegments. Sent as one
// document per segment, each well under X-Ray's 64 KB.
export function bigTrace({ now = Date.now() / 1000, spans = 5000, services = 50, seed = 7 } = {}) {
  const random = rng(seed);
  const start = now - 120;
  const id = traceId(random, start);
  const root = segmentId(random);
  const documents = [];
  const perService = Math.max(1, Math.floor((spans - 1) / services) - 1);
  const callIds = [];
  const rootSubs = [];
  for (let s = 0; s < services; s++) {
    const callId = segmentId(random);
    callIds.push(callId);
    rootSubs.push({
      id: callId,
      name: `svc-${String(s).padStart(2, '0')}.internal`,
      namespace: 'remote',
      start_time: round6(start + s * 0.05),
      end_time: round6(start + s * 0.05 + 2 + random()),
      http: { request: { method: 'GET', url: `http://svc-${s}.internal/work` }, response: { status: 200 } },
    });
  }
  documents.push({
    name: 'gateway',
    id: root,
    trace_id: id,
    start_time: round6(start),
    end_time: round6(start + services * 0.05 + 4),
    http: { request: { method: 'GET', url: 'https://gateway.example.com/report' }, response: { status: 200 } },
    annotations: { report: 'monthly' },
    subsegments: rootSubs,
  });
  for (let s = 0; s < services; s++) {
    const segStart = start + s * 0.05 + 0.01;
    const subs = [];
    for (let k = 0; k < perService; k++) {
      const a = segStart + (k * 1.8) / perService;
      subs.push({ id: segmentId(random), name: k % 10 === 0 ? 'query' : 'compute', start_time: round6(a), end_time: round6(a + 1.6 / perService) });
    }
    documents.push({
      name: `svc-${String(s).padStart(2, '0')}`,
      id: segmentId(random),
      trace_id: id,
      parent_id: callIds[s],
      start_time: round6(segStart),
      end_time: round6(segStart + 1.95),
      http: { request: { method: 'GET', url: `http://svc-${s}.internal/work` }, response: { status: 200 } },
      subsegments: subs,
    });
  }
  return { id, documents, spans: 1 + services + services * (1 + perService) };
}

// Sends documents with PutTraceSegments, at most `batch` per request, and
// fails on any unprocessed one.
export async function putDocuments(endpoint, documents, { batch = 200 } = {}) {
  for (let i = 0; i < documents.length; i += batch) {
    const body = JSON.stringify({ TraceSegmentDocuments: documents.slice(i, i + batch).map((d) => JSON.stringify(d)) });
    const res = await fetch(`${endpoint}/TraceSegments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`PutTraceSegments: ${res.status} ${text}`);
    const parsed = JSON.parse(text);
    if (parsed.UnprocessedTraceSegments?.length) {
      throw new Error(`PutTraceSegments left documents unprocessed: ${JSON.stringify(parsed.UnprocessedTraceSegments.slice(0, 3))}`);
    }
  }
}
