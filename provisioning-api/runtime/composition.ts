/**
 * A process is a composition of components, each with start, stop and an optional health
 * check: the database, the schema, the job queue, the workers, the HTTP API today; the chain
 * node and the SMSC join the same list in later issues. Started in order, stopped in reverse;
 * a failed start stops what had started.
 */
export interface Component {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Null when ready, else what is wrong. */
  health?(): Promise<string | null>;
}

export class Composition {
  private readonly started: Component[] = [];

  constructor(private readonly log: (message: string) => void = () => undefined) {}

  async start(components: Component[]): Promise<void> {
    for (const c of components) {
      try {
        await c.start();
      } catch (e) {
        this.log(`${c.name} did not start: ${e instanceof Error ? e.message : String(e)}`);
        await this.stop();
        throw e;
      }
      this.started.push(c);
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const c = this.started.pop()!;
      try {
        await c.stop();
      } catch (e) {
        this.log(`${c.name} did not stop cleanly: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** The health checks of the started components. */
  checks(): { name: string; check(): Promise<string | null> }[] {
    return this.started.filter((c) => c.health).map((c) => ({ name: c.name, check: () => c.health!() }));
  }
}
