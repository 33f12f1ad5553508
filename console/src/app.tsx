// The console's shell: the top bar (views, theme, keys) and the view the URL
// names. Views other than the traces list are loaded when first opened.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentKeys } from './api/keys';
import { onAuthRequired } from './api/xray';
import { formatHash, type Route, useRoute } from './lib/router';
import { rememberScope, scopeParams } from './lib/scope';
import { ErrorBanner, Loading } from './ui/common';
import { KeysDialog } from './ui/keys-dialog';
import { setTheme, useTheme } from './ui/theme';
import { TracesView } from './traces/traces-view';

type ViewModule = { default: ComponentType<{ route: Route }> };
const loaders: Record<string, () => Promise<ViewModule>> = {
  trace: () => import('./trace/trace-view'),
  map: () => import('./map/map-view'),
  compare: () => import('./compare/compare-view'),
  diff: () => import('./compare/diff-view'),
};
const loaded = new Map<string, ComponentType<{ route: Route }>>();

function LazyView({ route }: { route: Route }) {
  const [, setTick] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const View = loaded.get(route.view);
  useEffect(() => {
    if (View) return;
    const load = loaders[route.view];
    if (!load) return;
    load()
      .then((m) => {
        loaded.set(route.view, m.default);
        setTick((t) => t + 1);
      })
      .catch(setError);
  }, [route.view]);
  if (error) return <ErrorBanner error={error} context="Could not load this view" />;
  if (!View) return <div class="empty"><Loading /></div>;
  return <View route={route} />;
}

export function App() {
  const route = useRoute();
  const theme = useTheme();
  const [keysReason, setKeysReason] = useState<string | null | undefined>(undefined);
  const [keysVersion, setKeysVersion] = useState(0);
  useEffect(
    () =>
      onAuthRequired((e) =>
        setKeysReason(
          currentKeys()
            ? `The server refused these keys: ${e.type}: ${e.message}`
            : `The server requires signed requests (${e.type}).`,
        ),
      ),
    [],
  );
  if (route.view === 'traces' || route.view === 'map' || route.view === 'compare') rememberScope(route.params);
  const scope = scopeParams();
  const link = (view: 'traces' | 'map' | 'compare') => formatHash(view, [], scope);
  const current = (v: string) => (route.view === v || (v === 'compare' && route.view === 'diff') ? 'page' : undefined);
  return (
    <>
      <header class="topbar">
        <a class="brand" href={link('traces')}>
          <img src="/favicon.svg" alt="" />
          Roentgen
        </a>
        <nav class="nav" aria-label="Views">
          <a href={link('traces')} aria-current={current('traces') ?? (route.view === 'trace' ? 'page' : undefined)}>
            Traces
          </a>
          <a href={link('map')} aria-current={current('map')}>
            Service map
          </a>
          <a href={link('compare')} aria-current={current('compare')}>
            Compare
          </a>
        </nav>
        <span class="spacer" />
        <button type="button" onClick={() => setKeysReason(null)} title="Access keys for signed requests">
          {currentKeys() ? `Keys: ${currentKeys()!.accessKeyId.slice(0, 8)}…` : 'Keys'}
        </button>
        <button
          type="button"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
      </header>
      <main class="page" key={keysVersion}>
        {route.view === 'traces' ? <TracesView route={route} /> : <LazyView route={route} />}
      </main>
      {keysReason !== undefined ? (
        <KeysDialog
          reason={keysReason}
          onClose={(saved) => {
            setKeysReason(undefined);
            if (saved) setKeysVersion((v) => v + 1);
          }}
        />
      ) : null}
    </>
  );
}
