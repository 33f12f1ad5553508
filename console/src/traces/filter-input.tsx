// The filter-expression input: a combobox with completion (completion.ts);
// Enter runs the expression, and a syntax error from the server is shown
// under the text with a caret at the column it names.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Completion, complete, type Vocabulary } from './completion';

interface Props {
  value: string;
  onChange: (text: string) => void;
  onRun: (text: string) => void;
  vocabulary: Vocabulary;
  error?: { message: string; column?: number } | null;
  label?: string;
  placeholder?: string;
  id?: string;
}

export function FilterInput({ value, onChange, onRun, vocabulary, error, label = 'Filter expression', placeholder, id = 'filter' }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [completion, setCompletion] = useState<Completion | null>(null);
  const [active, setActive] = useState(-1); // -1: none highlighted, Enter runs
  const listId = `${id}-completions`;

  const refresh = (text: string, cursor: number) => {
    const c = complete(text, cursor, vocabulary);
    setCompletion(c);
    setActive(-1);
  };

  const accept = (index: number) => {
    const el = input.current;
    if (!completion || !el) return;
    const item = completion.items[index];
    if (!item) return;
    const text = value.slice(0, completion.from) + item.insert + value.slice(completion.to);
    const caret = completion.from + (item.cursor ?? item.insert.length);
    // The DOM first, at once: a fast typist's next key lands after the
    // accepted text, not in the value being replaced.
    el.value = text;
    el.focus();
    el.setSelectionRange(caret, caret);
    onChange(text);
    setCompletion(null);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const open = completion && completion.items.length > 0;
    if (e.key === 'ArrowDown' && open) {
      e.preventDefault();
      setActive((a) => (a + 1) % completion.items.length);
    } else if (e.key === 'ArrowUp' && open) {
      e.preventDefault();
      setActive((a) => (a <= 0 ? completion.items.length - 1 : a - 1));
    } else if (e.key === 'Tab' && open && !e.shiftKey) {
      e.preventDefault();
      accept(active >= 0 ? active : 0);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (open && active >= 0) accept(active);
      else {
        setCompletion(null);
        onRun(value);
      }
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setCompletion(null);
    } else if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      const el = e.currentTarget as HTMLInputElement;
      refresh(value, el.selectionStart ?? value.length);
    }
  };

  // Completion follows the vocabulary as it loads.
  useEffect(() => {
    const el = input.current;
    if (completion && el && el === document.activeElement) {
      refresh(value, el.selectionStart ?? value.length);
    }
  }, [vocabulary]);

  const open = completion !== null && completion.items.length > 0;
  const column = error?.column;
  return (
    <div class="filter-input grow">
      <div style={{ position: 'relative' }}>
        <label class="sr-only" for={id}>
          {label}
        </label>
        <input
          ref={input}
          id={id}
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          class={`mono ${error ? 'invalid' : ''}`}
          spellcheck={false}
          autocomplete="off"
          placeholder={placeholder ?? 'annotation.email = "alice@example.com" AND responsetime > 1  (or a trace id)'}
          value={value}
          onInput={(e) => {
            const el = e.currentTarget;
            onChange(el.value);
            refresh(el.value, el.selectionStart ?? el.value.length);
          }}
          onKeyDown={onKeyDown}
          onFocus={(e) => {
            if (!e.currentTarget.value) refresh('', 0);
          }}
          onBlur={() => setTimeout(() => setCompletion(null), 150)}
        />
        {open ? (
          <ul class="completion" id={listId} role="listbox" aria-label="Completions">
            {completion.items.map((item, i) => (
              <li
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                onMouseDown={(e) => {
                  e.preventDefault();
                  accept(i);
                }}
              >
                <span class="mono">{item.label}</span>
                <span class="detail">{item.detail}</span>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {error ? (
        <div class="filter-error" id={`${id}-error`} role="alert">
          {column !== undefined ? (
            <pre class="mono caret-line" aria-hidden="true">
              {value.slice(0, column - 1)}
              <mark>{value.slice(column - 1, column) || ' '}</mark>
              {value.slice(column)}
              {'\n'}
              {' '.repeat(Math.max(0, column - 1))}^
            </pre>
          ) : null}
          <span data-testid="filter-error-message">{error.message}</span>
        </div>
      ) : null}
    </div>
  );
}
