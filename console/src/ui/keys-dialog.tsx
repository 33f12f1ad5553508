// Asks for an access key id and secret when the server refuses unsigned (or
// wrongly signed) requests; they are kept for this tab only (api/keys.ts).
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentKeys, setKeys } from '../api/keys';

export function KeysDialog({ reason, onClose }: { reason: string | null; onClose: (saved: boolean) => void }) {
  const existing = currentKeys();
  const [id, setId] = useState(existing?.accessKeyId ?? '');
  const [secret, setSecret] = useState(existing?.secretAccessKey ?? '');
  const [token, setToken] = useState(existing?.sessionToken ?? '');
  const [region, setRegion] = useState(existing?.region ?? 'us-east-1');
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const save = (e: Event) => {
    e.preventDefault();
    if (!id.trim() || !secret.trim()) return;
    setKeys({
      accessKeyId: id.trim(),
      secretAccessKey: secret.trim(),
      region: region.trim() || 'us-east-1',
      ...(token.trim() ? { sessionToken: token.trim() } : {}),
    });
    onClose(true);
  };
  const forget = () => {
    setKeys(null);
    onClose(true);
  };
  return (
    <div class="dialog-backdrop" onKeyDown={(e) => e.key === 'Escape' && onClose(false)}>
      <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="keys-title" onSubmit={save}>
        <h2 id="keys-title">Access keys</h2>
        {reason ? (
          <div class="banner warn" style={{ margin: 0 }} role="alert">
            {reason}
          </div>
        ) : null}
        <p class="muted small" style={{ margin: 0 }}>
          This server requires signed requests. The console signs each request with SigV4, as an AWS SDK does. The keys
          stay in this tab only and are forgotten when it closes.
        </p>
        <label class="field">
          Access key ID
          <input ref={first} type="text" autocomplete="off" spellcheck={false} value={id} onInput={(e) => setId(e.currentTarget.value)} />
        </label>
        <label class="field">
          Secret access key
          <input type="password" autocomplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
        </label>
        <label class="field">
          Session token (for short-lived keys)
          <input type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        <label class="field">
          Region
          <input type="text" value={region} onInput={(e) => setRegion(e.currentTarget.value)} />
        </label>
        <div class="actions">
          {existing ? (
            <button type="button" onClick={forget}>
              Forget keys
            </button>
          ) : null}
          <button type="button" onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={!id.trim() || !secret.trim()}>
            Use keys
          </button>
        </div>
      </form>
    </div>
  );
}
