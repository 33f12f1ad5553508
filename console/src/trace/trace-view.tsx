import type { Route } from '../lib/router';

export default function View({ route }: { route: Route }) {
  return <div class="empty">Not built yet: {route.view}</div>;
}
