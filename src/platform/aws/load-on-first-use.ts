/**
 * A port whose adapter, and the AWS SDK client under it, is loaded when a
 * method is first called. Each SDK client costs a noticeable share of
 * start-up; a runbook whose items check nothing in that service never pays.
 * `methods` names every method of the port (the type makes it complete).
 */
export function loadOnFirstUse<T extends object>(load: () => Promise<T>, methods: Record<keyof T, true>): T {
  let adapter: Promise<T> | undefined;
  const port: Record<string, unknown> = {};
  for (const name of Object.keys(methods)) {
    port[name] = async (...args: unknown[]) => {
      const a = await (adapter ??= load());
      return (a[name as keyof T] as (...x: unknown[]) => unknown).apply(a, args);
    };
  }
  return port as T;
}
