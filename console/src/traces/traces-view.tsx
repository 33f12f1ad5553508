import type { Route } from '../lib/router';

export function TracesView({ route }: { route: Route }) {
  return <div class="empty">Traces: {route.params.get('q')}</div>;
}
