// Captures the documents the real aws-xray-sdk-core sends to the X-Ray daemon,
// for the segment parser's golden corpus (tests/testdata/segments/valid/sdk-*.json).
//
//   node tests/compat/capture-segments.mjs     (from the repository root or anywhere)
//
// It listens on a UDP port on 127.0.0.1, points AWS_XRAY_DAEMON_ADDRESS at it,
// drives the SDK in manual mode through the features the parser reads, checks
// each datagram's header line, and writes the document part of every datagram,
// byte for byte, as sdk-<scenario>-<n>.json. Ids and times differ on every run:
// after capturing, regenerate the .expected files (ROENTGEN_UPDATE_GOLDEN=1
// golden_segments_test) and review them.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '../testdata/segments/valid');
const require = createRequire(import.meta.url);

const socket = dgram.createSocket('udp4');
const received = [];
socket.on('message', (msg) => received.push(msg.toString('utf8')));
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${socket.address().port}`;

// Loaded after the variable is set: the SDK reads the daemon address at load time.
const AWSXRay = require('aws-xray-sdk-core');
const lib = 'aws-xray-sdk-core/dist/lib';
const IncomingRequestData = require(`${lib}/middleware/incoming_request_data`);
const RemoteRequestData = require(`${lib}/segments/attributes/remote_request_data`);
const Aws = require(`${lib}/segments/attributes/aws`);
AWSXRay.enableManualMode();
AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });

const TRACE = '1-5759e988-bd862e3fe1be46a994272793';

function incoming(method, url, headers = {}) {
  return new IncomingRequestData({
    method,
    url,
    headers: { host: 'notes.example.com', 'user-agent': 'capture/1.0 (compat)', ...headers },
    connection: { remoteAddress: '10.0.0.7', encrypted: true },
  });
}

function remote(sub, method, host, reqPath, status, length, traced) {
  const req = {
    method, host, path: reqPath, agent: { protocol: 'https:' }, getHeader: () => host,
  };
  const res = { statusCode: status, headers: length === undefined ? {} : { 'content-length': String(length) } };
  sub.addRemoteRequestData(req, res, traced);
}

// Each scenario runs the SDK; its datagrams are saved as sdk-<name>-<n>.json.
const scenarios = {
  // An HTTP request with a user, every annotation type, metadata in two namespaces,
  // a remote call and a SQL query.
  'web-request': () => {
    const seg = new AWSXRay.Segment('notes-web', TRACE, '53995c3f42cd8ad8');
    const data = incoming('GET', '/notes?page=2');
    seg.addIncomingRequestData(data);
    seg.setUser('alice');
    seg.addAnnotation('email', 'alice@example.com');
    seg.addAnnotation('note_count', 3);
    seg.addAnnotation('ratio', 0.25);
    seg.addAnnotation('vip', true);
    seg.addMetadata('request', { path: '/notes', items: [1, 2, 3], nested: { ok: null } });
    seg.addMetadata('build', 'r42', 'deploy');
    const api = seg.addNewSubsegment('auth.example.com');
    api.namespace = 'remote';
    remote(api, 'POST', 'auth.example.com', '/token?x=1', 200, 57, true);
    api.close();
    const db = seg.addNewSubsegment('notes@db.example.com');
    db.addSqlData({
      url: 'postgresql://db.example.com:5432/notes',
      sanitized_query: 'SELECT * FROM notes WHERE owner = $1',
      database_type: 'PostgreSQL',
      database_version: '15.4',
      driver_version: 'pg 8.11',
      user: 'notes_app',
      preparation: 'statement',
    });
    db.addAnnotation('rows', 12);
    db.close();
    data.close({ statusCode: 200, headers: { 'content-length': '1024' } });
    seg.http = data;
    seg.close();
  },
  // An exception with a stack on a subsegment, propagated to the segment.
  'fault-exception': () => {
    const seg = new AWSXRay.Segment('notes-api');
    const data = incoming('POST', '/notes', { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' });
    seg.addIncomingRequestData(data);
    const work = seg.addNewSubsegment('save-note');
    const err = new TypeError('cannot read properties of undefined');
    work.addError(err);
    work.close();
    // The same error reaching the segment: the SDK sends cause {"id": <subsegment id>}.
    seg.addError(err);
    const call = seg.addNewSubsegment('billing.example.com');
    call.namespace = 'remote';
    call.addError(new Error('upstream said no'), true);
    call.close();
    data.close({ statusCode: 500 });
    seg.http = data;
    seg.close();
  },
  // A 429: error and throttle flags, a string error, an AWS SDK call.
  'throttled': () => {
    const seg = new AWSXRay.Segment('notes-worker');
    seg.origin = 'AWS::EC2::Instance';
    seg.addPluginData({ ec2: { instance_id: 'i-0b5a4678fc325bg98', availability_zone: 'us-west-2c' } });
    const ddb = seg.addNewSubsegment('DynamoDB');
    ddb.namespace = 'aws';
    ddb.addAttribute('aws', new Aws({
      request: { operation: 'putItem', httpRequest: { region: 'us-west-2' }, params: { TableName: 'notes' } },
      requestId: 'V4FQ1CF8HV7DHTJ5DKNREF1JFBVV4KQNSO5AEMVJF66Q9ASUAAJG',
      retryCount: 2,
    }, 'DynamoDB'));
    ddb.addErrorFlag();
    ddb.addThrottleFlag();
    ddb.http = { response: { status: 429 } };
    ddb.addError('ProvisionedThroughputExceededException', true);
    ddb.close();
    seg.addErrorFlag();
    seg.addThrottleFlag();
    seg.close();
  },
  // An in-progress segment flushed before it is closed, then the completed one.
  'in-progress': () => {
    const seg = new AWSXRay.Segment('long-job', TRACE);
    seg.addAnnotation('job_id', 'j-77');
    seg.flush();
    seg.close();
  },
  // Streaming threshold 0: each closed subsegment is sent on its own
  // (type "subsegment", with trace_id and parent_id), then the segment.
  'streamed': () => {
    AWSXRay.setStreamingThreshold(0);
    const seg = new AWSXRay.Segment('stream-svc');
    const a = seg.addNewSubsegment('step-a');
    const b = a.addNewSubsegment('step-b');
    b.addAnnotation('step', 'b');
    b.close();
    a.close();
    const c = seg.addNewSubsegment('step-c');
    c.addPrecursorId(a.id);
    c.close();
    seg.close();
    AWSXRay.setStreamingThreshold(100);
  },
  // A minimal segment: what the SDK sends with nothing added.
  'minimal': () => {
    new AWSXRay.Segment('minimal').close();
  },
};

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

for (const old of fs.readdirSync(outDir)) {
  if (old.startsWith('sdk-')) fs.rmSync(path.join(outDir, old));
}
let total = 0;
for (const [name, run] of Object.entries(scenarios)) {
  received.length = 0;
  run();
  await sleep(300);
  if (received.length === 0) throw new Error(`${name}: no datagram received`);
  received.forEach((datagram, i) => {
    const newline = datagram.indexOf('\n');
    const header = datagram.slice(0, newline);
    if (header !== '{"format":"json","version":1}') {
      throw new Error(`${name}: unexpected daemon header ${JSON.stringify(header)}`);
    }
    const file = path.join(outDir, `sdk-${name}-${i + 1}.json`);
    fs.writeFileSync(file, datagram.slice(newline + 1));
    total += 1;
  });
  console.log(`${name}: ${received.length} document(s)`);
}
socket.close();
console.log(`wrote ${total} documents to ${outDir}`);
