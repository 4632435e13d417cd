/**
 * What every JSON body and query Herald reads must be before any handler or schema walks it: no
 * deeper than MAX_JSON_DEPTH, and every string (object keys too) storable on both store dialects.
 * PostgreSQL's text holds neither U+0000 nor a lone surrogate (which has no UTF-8 encoding); SQLite
 * would store them, so both are refused on both dialects alike.
 */

/** Nesting levels allowed; Herald's deepest bodies (a push Condition) stay well under it. */
export const MAX_JSON_DEPTH = 64;

// In a `u` regex a lone surrogate is its own code point of category Cs, and a pair is not.
const UNSTORABLE = /[\u0000\p{Cs}]/u;

function textProblem(s: string): string | undefined {
  if (!UNSTORABLE.test(s)) return undefined;
  return s.includes('\u0000') ? 'text must not contain U+0000 (NUL)' : 'text must be well-formed Unicode (it has a lone surrogate)';
}

interface Frame {
  value: unknown;
  /** Nesting level of `value` if it is an object or array: the root is 1. */
  level: number;
  parent: Frame | undefined;
  key: string;
}

/** "A.0.B: message", the way schema errors name a field (zod-error.ts). */
function at(frame: Frame, message: string): string {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) keys.push(f.key);
  return keys.length > 0 ? `${keys.reverse().join('.')}: ${message}` : message;
}

/**
 * The first problem with `root` as "Field.Path: message", or undefined when there is none. A loop
 * over an explicit stack, not recursion: a body nested 500,000 deep must not overflow the call stack.
 */
export function jsonInputProblem(root: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Frame[] = [{ value: root, level: 1, parent: undefined, key: '' }];
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    const v = f.value;
    if (typeof v === 'string') {
      const bad = textProblem(v);
      if (bad) return at(f, bad);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (f.level > maxDepth) return at(f, `nested deeper than ${maxDepth} levels`);
    const entries = Array.isArray(v) ? v.map((c, i) => [String(i), c] as const) : Object.entries(v);
    for (const [key] of entries) {
      const bad = textProblem(key);
      if (bad) return at(f, `a key: ${bad}`);
    }
    // pushed last to first, so fields are looked at in the order they were written
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], level: f.level + 1, parent: f, key: entries[i]![0] });
  }
  return undefined;
}
