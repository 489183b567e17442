/**
 * The error `fn` throws, to look at its code and words; a test that expected a refusal fails
 * when there is none.
 */
export function refusal(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a refusal");
}
