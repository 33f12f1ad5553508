// The notes API, in the AppSync role: a GraphQL endpoint (graphql-js, the
// reference implementation) whose resolvers invoke the notes function, as an
// AppSync API with Lambda data sources does, traced with aws-xray-sdk-core as
// AppSync traces itself with X-Ray on: a segment with origin
// AWS::AppSync::GraphQLAPI continuing the caller's X-Amzn-Trace-Id, and a
// subsegment per resolver whose id is the Parent of the header the function
// gets. Its backend also hands the web page short-lived write-only keys,
// made by Roentgen's CreateSessionKeys and signed with this server's own key
// (as a Cognito identity pool hands a page keys of a role on AWS).
//
// Environment:
//   PORT (default 4000), HOST (127.0.0.1)
//   WEB_ORIGIN            the page's origin, allowed by CORS
//   NOTES_FUNCTION        the function's executable (build/examples/notes/function/notes_function)
//   NOTES_DB              its SQLite file
//   ROENTGEN_ENDPOINT     Roentgen's HTTP address, for CreateSessionKeys (http://127.0.0.1:2000)
//   ROENTGEN_ACCESS_KEY_ID, ROENTGEN_SECRET_ACCESS_KEY
//                         a key allowed roentgen:CreateSessionKeys
//   AWS_XRAY_DAEMON_ADDRESS where the segments go (Roentgen's UDP port, 127.0.0.1:2000)
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AWSXRay = require('aws-xray-sdk-core');
const { buildSchema, graphql } = require('graphql');
const { SignatureV4 } = require('@smithy/signature-v4');

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const PORT = Number(env('PORT', '4000'));
const HOST = env('HOST', '127.0.0.1');
const WEB_ORIGIN = env('WEB_ORIGIN');
const FUNCTION = env('NOTES_FUNCTION');
const ROENTGEN = env('ROENTGEN_ENDPOINT', 'http://127.0.0.1:2000');
const API_NAME = env('NOTES_API_NAME', 'notes-api');

AWSXRay.enableManualMode(); // the segment travels in the GraphQL context
AWSXRay.setContextMissingStrategy('LOG_ERROR');
AWSXRay.middleware.setDefaultName(API_NAME);

export const schema = buildSchema(`
  type Note { id: ID! email: String! text: String! createdAt: String! }
  type Session { email: String! notes: [Note!]! }
  type Query { health: String! }
  type Mutation {
    signIn(email: String!): Session!
    addNote(email: String!, text: String!): Note!
    signOut(email: String!): Boolean!
  }
`);

// Runs the function once, as Lambda invokes it: the trace header in
// _X_AMZN_TRACE_ID, the event on stdin, the answer (or the function's error)
// on stdout.
// A function that runs longer than TIMEOUT_MS is killed, as Lambda does.
const TIMEOUT_MS = Number(env('NOTES_FUNCTION_TIMEOUT_MS', '10000'));
function invoke(event, traceHeader) {
  return new Promise((resolve, reject) => {
    const child = spawn(FUNCTION, [], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, _X_AMZN_TRACE_ID: traceHeader, AWS_REQUEST_ID: randomUUID() },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`Task timed out after ${(TIMEOUT_MS / 1000).toFixed(2)} seconds`));
      if (code !== 0) return reject(new Error(`the function exited with status ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the function answered ${JSON.stringify(out.slice(0, 200))}`));
      }
    });
    child.stdin.end(JSON.stringify(event));
  });
}

class FunctionError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

// A resolver backed by the function: a subsegment named as AppSync names
// its resolvers (Type.field), and the function continues the trace under it.
const lambdaResolver = (args, ctx, info) => {
  const sub = ctx.segment.addNewSubsegment(`${info.parentType.name}.${info.fieldName}`);
  sub.addAnnotation('email', args.email ?? '');
  sub.addMetadata('resolver', { dataSource: 'notes-function', kind: 'UNIT' }, 'appsync');
  const header = `Root=${ctx.segment.trace_id};Parent=${sub.id};Sampled=${ctx.segment.notTraced ? 0 : 1}`;
  const event = { arguments: args, info: { fieldName: info.fieldName, parentTypeName: info.parentType.name }, identity: null };
  return invoke(event, header).then(
    (answer) => {
      if (answer && typeof answer === 'object' && 'errorType' in answer) {
        const err = new FunctionError(answer.errorType, answer.errorMessage);
        sub.addError(err, true); // the function's failure, seen from here
        sub.close();
        throw err;
      }
      sub.close();
      return answer;
    },
    (err) => {
      sub.close(err);
      throw err;
    },
  );
};
const root = { health: () => 'ok', signIn: lambdaResolver, addNote: lambdaResolver, signOut: lambdaResolver };

// Roentgen's CreateSessionKeys, signed (SigV4) with this backend's key: keys
// that may only write segments and read the sampling rules, for 15 minutes.
const sha256 = class {
  constructor(secret) { this.h = secret ? createHmac('sha256', secret) : createHash('sha256'); }
  update(data) { this.h.update(data); }
  async digest() { return new Uint8Array(this.h.digest()); }
};
const signer = new SignatureV4({ service: 'xray', region: 'us-east-1', sha256,
  credentials: { accessKeyId: env('ROENTGEN_ACCESS_KEY_ID'), secretAccessKey: env('ROENTGEN_SECRET_ACCESS_KEY') } });
async function sessionKeys() {
  const url = new URL('/roentgen/CreateSessionKeys', ROENTGEN);
  const body = JSON.stringify({ Actions: ['xray:PutTraceSegments', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    DurationSeconds: 900, Name: 'notes-web' });
  const signed = await signer.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port),
    path: url.pathname, query: {}, headers: { 'content-type': 'application/json', host: url.host }, body });
  const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`CreateSessionKeys: ${res.status} ${text}`);
  return text;
}

const cors = {
  'access-control-allow-origin': WEB_ORIGIN,
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-amzn-trace-id',
  'access-control-max-age': '600',
  vary: 'origin',
};

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { ...cors, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1 << 20) throw new Error('request too large');
  }
  return body;
}

async function handleGraphql(req, res) {
  const segment = AWSXRay.middleware.traceRequestResponseCycle(req, res);
  segment.origin = 'AWS::AppSync::GraphQLAPI';
  let request;
  try {
    request = JSON.parse(await readBody(req));
  } catch {
    return send(res, 400, JSON.stringify({ errors: [{ message: 'the body must be JSON: {query, variables?, operationName?}' }] }));
  }
  if (typeof request?.query !== 'string') {
    return send(res, 400, JSON.stringify({ errors: [{ message: 'query must be a string' }] }));
  }
  const result = await graphql({ schema, source: request.query, rootValue: root, contextValue: { segment },
    variableValues: request.variables, operationName: request.operationName });
  // As AppSync: resolver failures are GraphQL errors in a 200 answer.
  send(res, 200, JSON.stringify(result));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    if (url.pathname === '/graphql' && req.method === 'POST') return await handleGraphql(req, res);
    if (url.pathname === '/keys' && req.method === 'GET') return send(res, 200, await sessionKeys());
    if (url.pathname === '/healthz') return send(res, 200, '{"status":"ok"}');
    send(res, 404, JSON.stringify({ message: `no route ${req.method} ${url.pathname}` }));
  } catch (err) {
    console.error('notes-api:', err);
    if (!res.headersSent) send(res, 500, JSON.stringify({ message: String(err.message ?? err) }));
  }
});
server.listen(PORT, HOST, () => console.log(`notes-api: http://${HOST}:${server.address().port}/graphql`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
