/** Items with the same key folded into one whose `count` is their sum; items counting 0 or less dropped. */
export function sumCounts<T extends { count: number }>(items: readonly T[], key: (item: T) => string): T[] {
  const merged = new Map<string, T>();
  for (const item of items) {
    if (item.count <= 0) continue;
    const k = key(item);
    const m = merged.get(k);
    if (m) m.count += item.count;
    else merged.set(k, { ...item });
  }
  return [...merged.values()];
}
