/**
 * Lets every promise chain that can move, move: 20 turns of the event loop's check phase, enough
 * for the broker's and the token keeper's await chains. No time passes (tests hold their clocks).
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Watches a request from the moment it is made; the returned function says how it stands once
 * every chain that can move has moved ("pending" while it waits).
 */
export function track<T>(p: Promise<T>): () => Promise<T | Error | "pending"> {
  let out: T | Error | "pending" = "pending";
  p.then(
    (v) => (out = v),
    (e: unknown) => (out = e as Error),
  );
  return async () => {
    await settle();
    return out;
  };
}
