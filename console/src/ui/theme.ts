// Light and dark themes: CSS variables on <html data-theme>, chosen from the
// system's preference until the user picks one (kept in localStorage).
// Canvas-drawn parts (charts, minimaps) read the colours through palette().
import { useEffect, useState } from 'preact/hooks';

export type Theme = 'light' | 'dark';
const storageKey = 'roentgen.theme';
const listeners = new Set<(t: Theme) => void>();

function systemTheme(): Theme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function storedTheme(): Theme | null {
  try {
    const t = localStorage.getItem(storageKey);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

let current: Theme = storedTheme() ?? systemTheme();

export function applyTheme(): void {
  document.documentElement.dataset.theme = current;
}

export function setTheme(t: Theme): void {
  current = t;
  try {
    localStorage.setItem(storageKey, t);
  } catch {
    // storage disabled: the choice lasts for this page
  }
  applyTheme();
  for (const l of listeners) l(t);
}

export function useTheme(): Theme {
  const [t, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    return () => void listeners.delete(set);
  }, []);
  return t;
}

export interface Palette {
  text: string;
  muted: string;
  grid: string;
  bg: string;
  panel: string;
  accent: string;
  ok: string;
  error: string;
  throttle: string;
  fault: string;
  pending: string;
  baseline: string;
  critical: string;
}

// The theme's colours as computed values (CSS variables --c-*).
export function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(`--${name}`).trim();
  return {
    text: v('text'),
    muted: v('muted'),
    grid: v('border'),
    bg: v('bg'),
    panel: v('panel'),
    accent: v('accent'),
    ok: v('ok'),
    error: v('error'),
    throttle: v('throttle'),
    fault: v('fault'),
    pending: v('pending'),
    baseline: v('baseline'),
    critical: v('critical'),
  };
}
