/**
 * How a request's events are stored in the outbox: the field names once, the values every event
 * shares once, and only the rest per event. The events of one row mostly differ in the device
 * alone, so a row takes about a tenth of the bytes of Tencent's JSON; every byte saved is written,
 * committed and deleted again in the store. The Tencent body is rebuilt as the row is posted.
 */
interface Packed {
  /** Field names, in the events' order. */
  o: readonly string[];
  /** Values the events share, by field name. */
  c: Readonly<Record<string, unknown>>;
  /** Per event, the values of the other fields, in `o` order. */
  v: readonly (readonly unknown[])[];
}

/** One request body from whole events (at least one): each event a group of its own, so the fields they share are found as for groups. */
export function packEvents(events: readonly Record<string, unknown>[]): string {
  const order = Object.keys(events[0] ?? {});
  return packSegments(events.map((e) => ({ group: { order, shared: e, columns: [], rows: [[]] }, from: 0, to: 1 })));
}

/** The request body `{"Events":[…]}` of a stored row (rows stored whole are returned as they are). */
export function unpackBody(stored: string): string {
  const p = JSON.parse(stored) as Packed | { Events: unknown[] };
  if ('Events' in p) return stored;
  const varying = p.o.filter((k) => !(k in p.c));
  const events = p.v.map((values) => {
    const e: Record<string, unknown> = {};
    for (const k of p.o) e[k] = k in p.c ? p.c[k] : values[varying.indexOf(k)];
    return e;
  });
  return JSON.stringify({ Events: events });
}

/**
 * Events of one step of one push to many devices: every field but a few columns is the same. The
 * statistics recorder hands its events over this way, so that a push to a million devices builds
 * no object per event: each request is packed straight from the groups' rows.
 */
export interface EventGroup {
  /** Every field, in the order an event lists them (the same for every group of one command). */
  order: readonly string[];
  /** The values every event of the group has. */
  shared: Readonly<Record<string, unknown>>;
  /** The other fields, in `order`'s order; each row holds their values. */
  columns: readonly string[];
  rows: readonly (readonly unknown[])[];
}

interface Segment {
  group: EventGroup;
  from: number;
  to: number;
}

/** Stored request bodies of at most `max` events each, in the groups' order. */
export function packGroups(groups: readonly EventGroup[], max: number): { body: string; count: number }[] {
  const out: { body: string; count: number }[] = [];
  let segments: Segment[] = [];
  let count = 0;
  const close = () => {
    if (count > 0) out.push({ body: packSegments(segments), count });
    segments = [];
    count = 0;
  };
  for (const group of groups) {
    for (let from = 0; from < group.rows.length; ) {
      const to = Math.min(group.rows.length, from + max - count);
      segments.push({ group, from, to });
      count += to - from;
      from = to;
      if (count === max) close();
    }
  }
  close();
  return out;
}

/** One request: a field is shared when every segment has it with the same value, else it varies per event. */
function packSegments(segments: readonly Segment[]): string {
  const first = segments[0]!.group;
  if (segments.every((s) => s.group === first)) {
    const rows = segments.flatMap((s) => first.rows.slice(s.from, s.to));
    return JSON.stringify({ o: first.order, c: first.shared, v: rows } satisfies Packed);
  }
  const shared: Record<string, unknown> = {};
  for (const k of first.order) {
    if (segments.every((s) => k in s.group.shared && s.group.shared[k] === first.shared[k])) shared[k] = first.shared[k];
  }
  const varying = first.order.filter((k) => !(k in shared));
  const rows: unknown[][] = [];
  for (const { group, from, to } of segments) {
    // where each varying field is in this group's rows; -1: the group shares it
    const at = varying.map((k) => group.columns.indexOf(k));
    for (let i = from; i < to; i++) {
      const row = group.rows[i]!;
      rows.push(varying.map((k, j) => (at[j]! >= 0 ? row[at[j]!] : group.shared[k])));
    }
  }
  return JSON.stringify({ o: first.order, c: shared, v: rows } satisfies Packed);
}
