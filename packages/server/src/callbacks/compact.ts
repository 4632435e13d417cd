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
  /** The other fields, each a column of one value per event, in `o` order. */
  w: readonly (readonly unknown[])[];
}

/** Rows stored before the columns: per event, the values of the fields not shared, in `o` order. */
interface PackedRows {
  o: readonly string[];
  c: Readonly<Record<string, unknown>>;
  v: readonly (readonly unknown[])[];
}

export function packEvents(events: readonly Record<string, unknown>[]): string {
  const order = Object.keys(events[0] ?? {});
  const shared: Record<string, unknown> = {};
  const varying: string[] = [];
  for (const k of order) {
    const first = events[0]![k];
    if (events.every((e) => e[k] === first)) shared[k] = first;
    else varying.push(k);
  }
  const packed: Packed = { o: order, c: shared, w: varying.map((k) => events.map((e) => e[k])) };
  return JSON.stringify(packed);
}

/** The request body `{"Events":[…]}` of a stored row (rows stored whole are returned as they are). */
export function unpackBody(stored: string): string {
  const p = JSON.parse(stored) as Packed | PackedRows | { Events: unknown[] };
  if ('Events' in p) return stored;
  const varying = p.o.filter((k) => !(k in p.c));
  const count = 'w' in p ? (p.w[0]?.length ?? 1) : p.v.length;
  const value = 'w' in p ? (j: number, i: number) => p.w[j]![i] : (j: number, i: number) => p.v[i]![j];
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const e: Record<string, unknown> = {};
    for (const k of p.o) e[k] = k in p.c ? p.c[k] : value(varying.indexOf(k), i);
    events.push(e);
  }
  return JSON.stringify({ Events: events });
}

/**
 * Events of one step of one push to many devices: every field but a few columns is the same. The
 * statistics recorder hands its events over this way, so that a push to a million devices builds
 * no object (nor array) per event: each request is packed straight from the groups' columns.
 */
export interface EventGroup {
  /** Every field, in the order an event lists them (the same for every group of one command). */
  order: readonly string[];
  /** The values every event of the group has. */
  shared: Readonly<Record<string, unknown>>;
  /** The other fields, in `order`'s order. */
  columns: readonly string[];
  /** One array per column, one value per event. */
  values: readonly (readonly unknown[])[];
}

interface Segment {
  group: EventGroup;
  from: number;
  to: number;
}

const sizeOf = (g: EventGroup) => g.values[0]?.length ?? 0;

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
    const n = sizeOf(group);
    for (let from = 0; from < n; ) {
      const to = Math.min(n, from + max - count);
      segments.push({ group, from, to });
      count += to - from;
      from = to;
      if (count === max) close();
    }
  }
  close();
  return out;
}

/** One request: a field is shared when every segment has it with the same value, else it is a column. */
function packSegments(segments: readonly Segment[]): string {
  const first = segments[0]!.group;
  if (segments.length === 1) {
    const { from, to } = segments[0]!;
    const whole = from === 0 && to === sizeOf(first);
    return JSON.stringify({ o: first.order, c: first.shared, w: whole ? first.values : first.values.map((col) => col.slice(from, to)) } satisfies Packed);
  }
  const shared: Record<string, unknown> = {};
  for (const k of first.order) {
    if (segments.every((s) => k in s.group.shared && s.group.shared[k] === first.shared[k])) shared[k] = first.shared[k];
  }
  const columns = first.order
    .filter((k) => !(k in shared))
    .map((k) =>
      segments.flatMap(({ group, from, to }) => {
        const at = group.columns.indexOf(k);
        return at >= 0 ? group.values[at]!.slice(from, to) : new Array<unknown>(to - from).fill(group.shared[k]);
      }),
    );
  return JSON.stringify({ o: first.order, c: shared, w: columns } satisfies Packed);
}
