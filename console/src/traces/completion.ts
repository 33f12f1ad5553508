// Completion for the filter-expression input: keywords, functions and
// operators of X-Ray's filter language, and the annotation keys, service
// names, users and values seen in the time range (from TraceAnalytics).
// Pure: given the text and the cursor, returns what may come next.
import { quote } from '../lib/filter';

export interface Vocabulary {
  annotationKeys: string[];
  annotationValues: Map<string, (string | number | boolean)[]>;
  services: string[];
  users: string[];
  urls: string[];
  recent?: string[]; // expressions run lately, offered when the input is empty
}

export const emptyVocabulary: Vocabulary = { annotationKeys: [], annotationValues: new Map(), services: [], users: [], urls: [] };

export interface Suggestion {
  label: string; // what the list shows
  insert: string; // replaces [from, to) of the text
  detail: string; // a short explanation
  cursor?: number; // where the cursor goes, relative to the insert's start (default: its end)
}

export interface Completion {
  from: number;
  to: number;
  items: Suggestion[];
}

interface Word {
  text: string;
  detail: string;
  insert?: string;
  cursor?: number;
}

const keywords: Word[] = [
  { text: 'ok', detail: 'no error, fault or throttle' },
  { text: 'error', detail: 'the root segment has a 4xx error' },
  { text: 'fault', detail: 'the root segment has a 5xx fault' },
  { text: 'throttle', detail: 'some segment was throttled (429)' },
  { text: 'partial', detail: 'some segment is in progress' },
  { text: 'inferred', detail: 'the trace has an inferred node' },
  { text: 'responsetime', detail: 'number: root segment time, seconds' },
  { text: 'duration', detail: 'number: whole trace, seconds' },
  { text: 'http.status', detail: 'number: root HTTP status' },
  { text: 'http.url', detail: 'string: root request URL' },
  { text: 'http.method', detail: 'string: root request method' },
  { text: 'http.useragent', detail: 'string' },
  { text: 'http.clientip', detail: 'string' },
  { text: 'user', detail: 'string: any user of the trace' },
  { text: 'name', detail: 'string: root segment name' },
  { text: 'type', detail: 'string: root segment origin' },
  { text: 'availabilityzone', detail: 'string' },
  { text: 'instance.id', detail: 'string' },
  { text: 'resource.arn', detail: 'string' },
  { text: 'annotation.', detail: 'annotation.KEY', insert: 'annotation.' },
  { text: 'service()', detail: 'passes through a service', insert: 'service("")', cursor: 9 },
  { text: 'edge()', detail: 'calls from one service to another', insert: 'edge("", "")', cursor: 6 },
  { text: 'id()', detail: 'a service by name, type, account', insert: 'id(name: "", type: "")', cursor: 10 },
  { text: 'group.name', detail: "a group's filter", insert: 'group.name = ""', cursor: 14 },
  { text: 'group.arn', detail: "a group's filter by ARN" },
  { text: 'rootcause.fault.service', detail: 'root causes of faults: services' },
  { text: 'rootcause.fault.entity', detail: 'root causes of faults: entity path' },
  { text: 'rootcause.fault.exception', detail: 'root causes of faults: exceptions' },
  { text: 'rootcause.error.service', detail: 'root causes of errors: services' },
  { text: 'rootcause.error.entity', detail: 'root causes of errors: entity path' },
  { text: 'rootcause.error.exception', detail: 'root causes of errors: exceptions' },
  { text: 'rootcause.responsetime.service', detail: 'slowest services' },
  { text: 'rootcause.responsetime.entity', detail: 'slowest entity path' },
  { text: 'rootcause.json', detail: 'root causes as JSON', insert: 'rootcause.json = #[{}]', cursor: 19 },
];
const connectives: Word[] = [
  { text: 'AND', detail: 'both' },
  { text: 'OR', detail: 'either' },
  { text: 'NOT', detail: 'negation' },
];
const stringOperators: Word[] = [
  { text: '=', detail: 'equals' },
  { text: '!=', detail: 'differs' },
  { text: 'CONTAINS', detail: 'substring' },
  { text: 'BEGINSWITH', detail: 'prefix' },
  { text: 'ENDSWITH', detail: 'suffix' },
];
const numberOperators: Word[] = ['=', '!=', '<', '<=', '>', '>='].map((t) => ({ text: t, detail: 'compare' }));
const numberKeywords = new Set(['responsetime', 'duration', 'http.status']);
const stringKeywords = new Set(['http.url', 'http.method', 'http.useragent', 'http.clientip', 'user', 'name', 'type', 'availabilityzone', 'instance.id', 'resource.arn']);

const wordChar = /[A-Za-z0-9_.]/;

// The start of the string literal the cursor is in, or -1.
function openStringStart(text: string, cursor: number): number {
  let start = -1;
  for (let i = 0; i < cursor; i++) {
    const c = text[i];
    if (start >= 0) {
      if (c === '\\') i++;
      else if (c === '"') start = -1;
    } else if (c === '"') start = i;
  }
  return start;
}

function annotationRef(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `annotation.${key}` : `annotation[${quote(key)}]`;
}

function valueLiteral(v: string | number | boolean): string {
  return typeof v === 'string' ? quote(v) : String(v);
}

function matching(words: Word[], prefix: string, limit = 50): Suggestion[] {
  const p = prefix.toLowerCase();
  return words
    .filter((w) => w.text.toLowerCase().startsWith(p) && w.text.toLowerCase() !== p)
    .slice(0, limit)
    .map((w) => ({ label: w.text, insert: w.insert ?? w.text, detail: w.detail, ...(w.cursor !== undefined ? { cursor: w.cursor } : {}) }));
}

// Values for the keyword before an operator: `user = "`, `annotation.k = `.
function valuesFor(subject: string, vocab: Vocabulary): (string | number | boolean)[] {
  const lower = subject.toLowerCase();
  if (lower === 'user') return vocab.users;
  if (lower === 'http.url') return vocab.urls;
  const dotted = /^annotation\.(.+)$/i.exec(subject);
  const bracket = /^annotation\[\s*"?((?:[^"\\]|\\.)*?)"?\s*\]$/i.exec(subject);
  const key = dotted?.[1] ?? bracket?.[1]?.replace(/\\(.)/g, '$1');
  if (key !== undefined) return vocab.annotationValues.get(key) ?? [];
  return [];
}

export function complete(text: string, cursor: number, vocab: Vocabulary): Completion | null {
  if (text.trim() === '' && vocab.recent?.length) {
    return { from: 0, to: text.length, items: vocab.recent.map((r) => ({ label: r, insert: r, detail: 'recent' })) };
  }
  // Inside a string literal: service names after service( / edge( / id(name:,
  // values after `subject =`.
  const stringStart = openStringStart(text, cursor);
  if (stringStart >= 0) {
    const typed = text.slice(stringStart + 1, cursor);
    const before = text.slice(0, stringStart).trimEnd();
    let candidates: (string | number | boolean)[] = [];
    let detail = '';
    if (/(service\(|edge\(|,|name:)\s*$/i.test(before) && /(service|edge|id)\([^)]*$/i.test(before + '"')) {
      candidates = vocab.services;
      detail = 'service';
    } else {
      const m = /((?:annotation\[[^\]]*\])|[A-Za-z][A-Za-z0-9_.]*)\s*(=|!=|CONTAINS|BEGINSWITH|ENDSWITH)$/i.exec(before);
      if (m) {
        candidates = valuesFor(m[1]!, vocab).filter((v) => typeof v === 'string');
        detail = 'seen in range';
      }
    }
    let end = cursor;
    while (end < text.length && text[end] !== '"') end++;
    const closes = end < text.length ? end + 1 : end;
    const items = candidates
      .map(String)
      .filter((v) => v.toLowerCase().includes(typed.toLowerCase()))
      .slice(0, 50)
      .map((v) => ({ label: v, insert: quote(v), detail }));
    return items.length ? { from: stringStart, to: closes, items } : null;
  }

  let from = cursor;
  while (from > 0 && wordChar.test(text[from - 1]!)) from--;
  // annotation[...] keys typed in brackets count as one word.
  const prefix = text.slice(from, cursor);
  const before = text.slice(0, from).trimEnd();
  const lastWord = /([A-Za-z0-9_.]+|\[[^\]]*\]|"(?:[^"\\]|\\.)*"|[)}\]]|[=<>!]+)$/.exec(before)?.[1] ?? '';

  if (/^annotation\./i.test(prefix)) {
    const keyPrefix = prefix.slice('annotation.'.length).toLowerCase();
    const items = vocab.annotationKeys
      .filter((k) => k.toLowerCase().startsWith(keyPrefix))
      .slice(0, 50)
      .map((k) => ({ label: annotationRef(k), insert: annotationRef(k), detail: 'annotation' }));
    return items.length ? { from, to: cursor, items } : null;
  }

  // After an operator: values seen in range.
  if (/^(=|!=|<|<=|>|>=|CONTAINS|BEGINSWITH|ENDSWITH)$/i.test(lastWord)) {
    const subject = /((?:annotation\[[^\]]*\])|[A-Za-z][A-Za-z0-9_.]*)\s*(?:=|!=|<|<=|>|>=|CONTAINS|BEGINSWITH|ENDSWITH)$/i.exec(before)?.[1] ?? '';
    const items = valuesFor(subject, vocab)
      .filter((v) => String(v).toLowerCase().startsWith(prefix.toLowerCase()))
      .slice(0, 50)
      .map((v) => ({ label: String(v), insert: valueLiteral(v), detail: 'seen in range' }));
    return items.length ? { from, to: cursor, items } : null;
  }

  // After a keyword that takes an operator.
  const lastLower = lastWord.toLowerCase();
  if (prefix === '' && (stringKeywords.has(lastLower) || /^annotation/i.test(lastWord))) {
    return { from, to: cursor, items: matching(stringOperators, '') };
  }
  if (prefix === '' && numberKeywords.has(lastLower)) {
    return { from, to: cursor, items: matching(numberOperators, '') };
  }

  // After a complete term: AND / OR; otherwise keywords and functions.
  const afterTerm = lastWord !== '' && !/^(and|or|not|!|\()$/i.test(lastWord);
  const pool = afterTerm ? connectives : [...keywords, ...connectives.filter((c) => c.text === 'NOT')];
  if (prefix === '' && !afterTerm && before !== '' && !/[(\s!]$/.test(text.slice(0, from))) return null;
  const items = matching(pool, prefix);
  // Service names complete the service() function directly.
  if (!afterTerm && prefix.length >= 2) {
    for (const s of vocab.services) {
      if (s.toLowerCase().startsWith(prefix.toLowerCase()) && items.length < 60) {
        items.push({ label: `service(${quote(s)})`, insert: `service(${quote(s)})`, detail: 'service' });
      }
    }
  }
  return items.length ? { from, to: cursor, items } : null;
}
