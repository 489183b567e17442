/**
 * One SDK client per region, built on first use. The SDK module is imported lazily, so CLI
 * commands that never talk to AWS (status, env) start fast; one client per region keeps its
 * sockets and its clock-skew correction across calls instead of churning them per call.
 */
export class RegionalClients<M, C extends { destroy(): void }> {
  private mod?: Promise<M>;
  private readonly clients = new Map<string, C>();

  constructor(
    private readonly load: () => Promise<M>,
    private readonly build: (mod: M, region: string) => C,
  ) {}

  async get(region: string): Promise<{ mod: M; client: C }> {
    this.mod ??= this.load();
    const mod = await this.mod;
    let client = this.clients.get(region);
    if (!client) {
      client = this.build(mod, region);
      this.clients.set(region, client);
    }
    return { mod, client };
  }

  /** Closes every client's sockets (daemon shutdown). */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
