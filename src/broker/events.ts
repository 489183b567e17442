/** What the broker announces: trays and the control API's event stream listen, nothing polls. */
export type BrokerEvent =
  | { type: "window-opened"; profile: string; end: number }
  | { type: "window-closing"; profile: string; end: number }
  | { type: "window-closed"; profile: string }
  | { type: "minted"; profile: string; expiration: number }
  | { type: "refused"; profile: string; code: string }
  | { type: "login-required"; sso: string };

export type Listener<E> = (e: E) => void;

/** One small typed emitter: listeners hear every event in the order they subscribed. */
export class Emitter<E> {
  private readonly listeners = new Set<Listener<E>>();

  /** Returns the unsubscribe function. */
  on(listener: Listener<E>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: E): void {
    for (const l of this.listeners) l(e);
  }
}
