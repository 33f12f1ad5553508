// Small shared pieces: errors, loading, tabs, status badges.
import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/xray';
import type { Status } from '../lib/format';

export function ErrorBanner({ error, context }: { error: unknown; context?: string }) {
  if (!error) return null;
  let text: string;
  if (error instanceof ApiError) {
    if (error.isAccessDenied) {
      text = `Access denied: your keys may not call this operation (${error.message})`;
    } else if (error.isAuth) {
      text = `This server requires signed requests: enter access keys with the Keys button (${error.type}).`;
    } else {
      text = `${error.type}: ${error.message}`;
    }
  } else {
    text = error instanceof Error ? error.message : String(error);
  }
  return (
    <div class="banner error" role="alert">
      {context ? <strong>{context}: </strong> : null}
      {text}
    </div>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <span class="muted" role="status">
      <span class="spinner" aria-hidden="true" /> {label}…
    </span>
  );
}

export function StatusBadge({ status, partial }: { status: Status; partial?: boolean }) {
  const text = { ok: 'OK', error: 'Error', throttle: 'Throttle', fault: 'Fault' }[status];
  return (
    <span class="row" style={{ gap: '4px', display: 'inline-flex' }}>
      <span class={`status ${status}`}>{text}</span>
      {partial ? <span class="tag partial" title="Some segment is still in progress">partial</span> : null}
    </span>
  );
}

export interface TabDef {
  id: string;
  label: string;
}

// WAI-ARIA tabs: arrow keys move between tabs.
export function Tabs({ tabs, current, onChange, label }: { tabs: TabDef[]; current: string; onChange: (id: string) => void; label: string }) {
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next >= 0) {
      e.preventDefault();
      onChange(tabs[next]!.id);
      const el = (e.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[role="tab"]')[next];
      el?.focus();
    }
  };
  return (
    <div class="tabs" role="tablist" aria-label={label} onKeyDown={onKey}>
      {tabs.map((t) => (
        <button
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === current}
          tabIndex={t.id === current ? 0 : -1}
          onClick={() => onChange(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function Panel({ title, actions, children, class: cls }: { title: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`panel ${cls ?? ''}`}>
      <div class="panel-head">
        <h2 style={{ margin: 0, fontSize: '13px' }}>{title}</h2>
        <span class="spacer" />
        {actions}
      </div>
      {children}
    </section>
  );
}
