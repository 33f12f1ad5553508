// Access keys for a server that requires signed requests. They are kept for
// this tab only (sessionStorage): closing the tab forgets them. The SigV4
// signer is loaded on first use, so a server without keys never downloads it.
export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

const storageKey = 'roentgen.keys';
let keys: Keys | null = load();

function load(): Keys | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Keys>;
    if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string') return null;
    return {
      accessKeyId: parsed.accessKeyId,
      secretAccessKey: parsed.secretAccessKey,
      region: typeof parsed.region === 'string' && parsed.region ? parsed.region : 'us-east-1',
      ...(parsed.sessionToken ? { sessionToken: parsed.sessionToken } : {}),
    };
  } catch {
    return null;
  }
}

export function currentKeys(): Keys | null {
  return keys;
}

export function setKeys(next: Keys | null): void {
  keys = next;
  try {
    if (next) sessionStorage.setItem(storageKey, JSON.stringify(next));
    else sessionStorage.removeItem(storageKey);
  } catch {
    // storage disabled: the keys live in memory for this page
  }
}

// The headers of a request signed for service "xray" (Authorization,
// X-Amz-Date and, for session credentials, X-Amz-Security-Token).
export async function signRequest(
  k: Keys,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<Record<string, string>> {
  const { sign } = await import('./sigv4');
  return sign(k, method, location.protocol, location.host, path, headers, body);
}
