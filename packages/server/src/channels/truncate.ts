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
