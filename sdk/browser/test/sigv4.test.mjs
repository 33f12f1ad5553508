// The signer against AWS's SigV4 test suite (aws-sig-v4-test-suite,
// 2015-08-30; the same vectors src/auth/sigv4_test.cpp checks the server
// with) and HMAC against node's.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { amzDate, hash, signRequest } from '../dist/xray.js';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = new Date(Date.UTC(2015, 7, 30, 12, 36, 0));
const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

const vectors = [
  { name: 'get-vanilla', method: 'GET', url: 'https://example.amazonaws.com/', headers: {}, body: '',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31` },
  { name: 'post-vanilla', method: 'POST', url: 'https://example.amazonaws.com/', headers: {}, body: '',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b` },
  { name: 'post-x-www-form-urlencoded', method: 'POST', url: 'https://example.amazonaws.com/',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Param1=value1',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a` },
  { name: 'post-header-key-sort', method: 'POST', url: 'https://example.amazonaws.com/', headers: { 'My-Header1': 'value1' }, body: '',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c` },
  { name: 'get-header-value-trim', method: 'GET', url: 'https://example.amazonaws.com/',
    headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' }, body: '',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736` },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1', headers: {}, body: '',
    auth: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500` },
];

for (const v of vectors) {
  test(`AWS SigV4 test suite: ${v.name}`, () => {
    const h = signRequest({ method: v.method, url: new URL(v.url), headers: v.headers, body: v.body }, creds, 'us-east-1', 'service', date);
    assert.equal(h['x-amz-date'], '20150830T123600Z');
    assert.equal(h.authorization, v.auth);
  });
}

test('a session token is sent and signed as x-amz-security-token', () => {
  const h = signRequest({ method: 'POST', url: new URL('http://127.0.0.1:2000/TraceSegments'), headers: { 'content-type': 'application/json' }, body: '{}' },
    { ...creds, sessionToken: 'RGST1.token' }, 'eu-west-1', 'xray', date);
  assert.equal(h['x-amz-security-token'], 'RGST1.token');
  assert.match(h.authorization, /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/);
  assert.match(h.authorization, /\/20150830\/eu-west-1\/xray\/aws4_request/);
});

test('SHA-256 and HMAC-SHA-256 agree with node (long keys, long and non-ASCII data)', () => {
  for (const [data, key] of [['', undefined], ['abc', 'k'], ['é€😀'.repeat(50), 'x'.repeat(100)], ['a'.repeat(1000), 'y'.repeat(64)]]) {
    const ours = Buffer.from(hash(data, key === undefined ? undefined : new TextEncoder().encode(key))).toString('hex');
    const node = key === undefined ? createHash('sha256').update(data).digest('hex') : createHmac('sha256', key).update(data).digest('hex');
    assert.equal(ours, node);
  }
});

test('amzDate is the basic ISO 8601 form', () => {
  assert.equal(amzDate(date), '20150830T123600Z');
});
