/**
 * Gives a new row the app's next id (1, 2, …): reads the highest id, then tries to insert with the
 * next one; `insert` returns false when a concurrent call took that id, and it is tried again.
 */
export async function withNextId(top: () => Promise<number | string | null | undefined>, insert: (id: number) => Promise<boolean>, what: string): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = Number((await top()) ?? 0) + 1;
    if (await insert(id)) return id;
  }
  throw new Error(`could not allocate ${what}`);
}
