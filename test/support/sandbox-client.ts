/** Posts to the sandbox page's JSON API, the way the page does; returns its JSON answer. */
export async function sandboxApi(base: string, route: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(route, base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

/** What the page shows `user` (the first visit's person when empty). */
export async function sandboxState<T>(base: string, user: string): Promise<T> {
  return (await (await fetch(new URL(`/sandbox/state?user=${user}`, base))).json()) as T;
}
