// The real aws-xray-sdk-core, with every document it sends recorded (as the
// JSON text the SDK itself formatted) so tests can compare what comes back.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const AWSXRay = require('aws-xray-sdk-core');
const SegmentEmitter = require('aws-xray-sdk-core/dist/lib/segment_emitter');

export const sent = [];
const originalSend = SegmentEmitter.send.bind(SegmentEmitter);
SegmentEmitter.send = function recordingSend(segment) {
  sent.push(JSON.parse(segment.format()));
  return originalSend(segment);
};

export function useDaemon(port) {
  AWSXRay.setDaemonAddress(`127.0.0.1:${port}`);
  AWSXRay.enableManualMode();
  AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
}
