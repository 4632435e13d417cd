export interface LanguageContent {
  Language: string;
  Title?: string;
  Desc?: string;
}

/**
 * The MultiLanguageContent entry for a device locale: the exact tag, then the tag shortened one
 * subtag at a time (zh-Hant-TW → zh-Hant → zh), compared case-insensitively with `_` read as `-`.
 * Undefined means the push's default Title/Desc apply.
 */
export function pickLanguage<T extends LanguageContent>(locale: string | null | undefined, entries: readonly T[] | undefined): T | undefined {
  if (!locale || !entries || entries.length === 0) return undefined;
  const norm = (t: string) => t.trim().replace(/_/g, '-').toLowerCase();
  const byTag = new Map<string, T>();
  for (const e of entries) if (!byTag.has(norm(e.Language))) byTag.set(norm(e.Language), e);
  const parts = norm(locale).split('-').filter(Boolean);
  for (let n = parts.length; n > 0; n--) {
    const hit = byTag.get(parts.slice(0, n).join('-'));
    if (hit) return hit;
  }
  return undefined;
}
