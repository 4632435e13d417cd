/**
 * Tencent's rule for vendor title and text limits (reference §2.8, trtc.io/document/77715): counted
 * in UTF-16 units, an over-long string is cut to limit − 3 and ends with "...".
 */
export function truncateUtf16(s: string, limit: number): string {
  if (s.length <= limit) return s;
  let cut = s.slice(0, limit - 3);
  // do not leave half of a surrogate pair
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/**
 * The payload `build(text)` makes, with `text` cut Tencent's way to the longest length whose
 * payload fits in `maxBytes`; null when even an empty text does not fit (the rest is too big).
 */
export function fitText(text: string, maxBytes: number, build: (text: string) => string): string | null {
  const whole = build(text);
  if (Buffer.byteLength(whole) <= maxBytes) return whole;
  // binary search over the kept length: the payload grows with it
  let lo = 0;
  let hi = text.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(build(truncateUtf16(text, mid + 3))) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  const cut = build(lo === 0 ? '' : truncateUtf16(text, lo + 3));
  return Buffer.byteLength(cut) <= maxBytes ? cut : null;
}
