/**
 * How an outbox row's events are stored: the field names once, the values every event shares once,
 * and the rest as one array per field. The events of one row mostly differ in the device alone, so
 * a row takes about a tenth of the bytes of Tencent's JSON; every byte saved is written, committed
 * and deleted again in the store. Tencent's request bodies (at most 100 events each) are rebuilt as
 * the row is posted.
 */
interface Packed {
  /** Field names, in the events' order. */
  o: readonly string[];
  /** Values the events share, by field name. */
  c: Readonly<Record<string, unknown>>;
  /** The other fields, in `o` order, each with one value per event. */
  w: readonly (readonly unknown[])[];
  /** How many events (the columns may be none). */
  n: number;
}

/** Rows stored before fields were kept as columns: per event, the values of the fields `c` lacks. */
interface PackedRows {
  o: readonly string[];
  c: Readonly<Record<string, unknown>>;
  v: readonly (readonly unknown[])[];
}

/** One row's body from whole events (at least one): each event a group of its own, so the fields they share are found as for groups. */
export function packEvents(events: readonly Record<string, unknown>[]): string {
  const order = Object.keys(events[0] ?? {});
  return packSegments(events.map((e) => ({ group: { order, shared: e, columns: [], values: [], count: 1 }, from: 0, to: 1 })));
}

/** All the events of a stored row, as the body `{"Events":[…]}` (rows stored whole are returned as they are). */
export function unpackBody(stored: string): string {
  return JSON.stringify({ Events: unpackEvents(stored) });
}

/** A stored row as the request bodies it is posted as, in order: `{"Events":[…]}` of at most `max` events each. */
export function requestBodies(stored: string, max: number): string[] {
  const events = unpackEvents(stored);
  const out: string[] = [];
  for (let i = 0; i < events.length; i += max) out.push(JSON.stringify({ Events: events.slice(i, i + max) }));
  return out;
}

function unpackEvents(stored: string): unknown[] {
  const p = JSON.parse(stored) as Packed | PackedRows | { Events: unknown[] };
  if ('Events' in p) return p.Events;
  const varying = p.o.filter((k) => !(k in p.c));
  const count = 'w' in p ? p.n : p.v.length;
  const value = 'w' in p ? (j: number, i: number) => p.w[j]![i] : (j: number, i: number) => p.v[i]![j];
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const e: Record<string, unknown> = {};
    for (const k of p.o) e[k] = k in p.c ? p.c[k] : value(varying.indexOf(k), i);
    events.push(e);
  }
  return events;
}

/**
 * Events of one step of one push to many devices: every field but a few columns is the same. The
 * statistics recorder hands its events over this way, so that a push to a million devices builds
 * no object per event: each request is packed straight from slices of the groups' columns.
 */
export interface EventGroup {
  /** Every field, in the order an event lists them (the same for every group of one command). */
  order: readonly string[];
  /** The values every event of the group has. */
  shared: Readonly<Record<string, unknown>>;
  /** The other fields, in `order`'s order, and their values: `values[j][i]` is event i's `columns[j]`. */
  columns: readonly string[];
  values: readonly (readonly unknown[])[];
  /** How many events. */
  count: number;
}

interface Segment {
  group: EventGroup;
  from: number;
  to: number;
}

/** One row's stored body and how many events it holds. */
export interface PackedRow {
  body: string;
  count: number;
}

/** Stored row bodies of at most `max` events each, in the groups' order. */
export function packGroups(groups: readonly EventGroup[], max: number): PackedRow[] {
  const out: PackedRow[] = [];
  let segments: Segment[] = [];
  let count = 0;
  const close = () => {
    if (count > 0) out.push({ body: packSegments(segments), count });
    segments = [];
    count = 0;
  };
  for (const group of groups) {
    for (let from = 0; from < group.count; ) {
      const to = Math.min(group.count, from + max - count);
      segments.push({ group, from, to });
      count += to - from;
      from = to;
      if (count === max) close();
    }
  }
  close();
  return out;
}

/** One row: a field is shared when every segment has it with the same value, else it is a column of all the segments' values. */
function packSegments(segments: readonly Segment[]): string {
  const first = segments[0]!.group;
  const n = segments.reduce((sum, s) => sum + s.to - s.from, 0);
  if (segments.length === 1) {
    const { from, to } = segments[0]!;
    return JSON.stringify({ o: first.order, c: first.shared, w: first.values.map((col) => col.slice(from, to)), n } satisfies Packed);
  }
  const shared: Record<string, unknown> = {};
  for (const k of first.order) {
    if (segments.every((s) => k in s.group.shared && s.group.shared[k] === first.shared[k])) shared[k] = first.shared[k];
  }
  const w = first.order
    .filter((k) => !(k in shared))
    .map((k) => {
      const col: unknown[] = [];
      for (const { group, from, to } of segments) {
        const j = group.columns.indexOf(k);
        if (j >= 0) for (let i = from; i < to; i++) col.push(group.values[j]![i]);
        else for (let i = from; i < to; i++) col.push(group.shared[k]);
      }
      return col;
    });
  return JSON.stringify({ o: first.order, c: shared, w, n } satisfies Packed);
}
