import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Segment, newSegmentId, newTraceId } from '../dist/xray.js';

test('trace ids are 1-<8 hex epoch seconds>-<24 hex>, segment ids 16 hex', () => {
  for (let i = 0; i < 200; i++) {
    assert.match(newTraceId(), /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.match(newSegmentId(), /^[0-9a-f]{16}$/);
  }
  assert.equal(newTraceId(1_700_000_000_999).slice(0, 10), `1-${(1_700_000_000).toString(16)}`);
});

test('small bytes and early epochs keep their leading zeros', () => {
  const real = crypto.getRandomValues;
  crypto.getRandomValues = (a) => a.fill(0x0a);
  try {
    assert.equal(newSegmentId(), '0a0a0a0a0a0a0a0a');
    assert.equal(newTraceId(15_000), '1-0000000f-0a0a0a0a0a0a0a0a0a0a0a0a');
  } finally {
    crypto.getRandomValues = real;
  }
});

test('the trace header names the entity as Parent and the sampling decision', () => {
  const seg = new Segment('app', {}, true);
  const sub = seg.beginSubsegment('api');
  assert.equal(sub.traceHeader(), `Root=${seg.trace_id};Parent=${sub.id};Sampled=1`);
  const unsampled = new Segment('app', {}, false);
  assert.equal(unsampled.traceHeader(), `Root=${unsampled.trace_id};Parent=${unsampled.id};Sampled=0`);
  const continued = new Segment('app', { traceId: '1-5759e988-bd862e3fe1be46a994272793', parentId: '53995c3f42cd8ad8' });
  assert.equal(continued.toDocument().trace_id, '1-5759e988-bd862e3fe1be46a994272793');
  assert.equal(continued.toDocument().parent_id, '53995c3f42cd8ad8');
});
