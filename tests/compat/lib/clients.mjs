import { XRayClient } from '@aws-sdk/client-xray';

// The real AWS SDK v3 X-Ray client pointed at a Roentgen server, signing with
// `credentials` ({accessKeyId, secretAccessKey[, sessionToken]}); any keys do
// for a server without --keys.
export function xrayClient(endpoint, credentials = {
  accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}) {
  return new XRayClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

export async function eventually(fn, { timeoutMs = 10000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw lastError ?? new Error('condition not met in time');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
