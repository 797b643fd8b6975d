/**
 * Broker sessions, in memory (Kafka's BrokerHeartbeatManager): when each broker was last heard from. A
 * broker with a metadata fetch in flight (a long poll the controller is holding) counts as heard from
 * until that fetch ends, so a long poll never costs a broker its session; once it ends the clock runs
 * again, so a process that stops (kill -9, SIGSTOP) is fenced `sessionTimeoutMs` after its last answer.
 */
export class BrokerHeartbeatManager {
  private readonly lastContact = new Map<number, number>();
  private readonly inFlight = new Map<number, number>();

  constructor(
    readonly sessionTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts (or renews) the broker's session now. */
  touch(brokerId: number): void {
    this.lastContact.set(brokerId, this.now());
  }

  /** A fetch from the broker is being held; `end` renews the session when it is answered. */
  begin(brokerId: number): void {
    this.touch(brokerId);
    this.inFlight.set(brokerId, (this.inFlight.get(brokerId) ?? 0) + 1);
  }

  end(brokerId: number): void {
    const n = (this.inFlight.get(brokerId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(brokerId);
    else this.inFlight.set(brokerId, n);
    if (this.lastContact.has(brokerId)) this.touch(brokerId);
  }

  remove(brokerId: number): void {
    this.lastContact.delete(brokerId);
    this.inFlight.delete(brokerId);
  }

  /** Brokers whose session has expired (among those it tracks). */
  expired(): number[] {
    const deadline = this.now() - this.sessionTimeoutMs;
    const out: number[] = [];
    for (const [id, at] of this.lastContact) {
      if (at < deadline && !this.inFlight.has(id)) out.push(id);
    }
    return out;
  }

  lastContactOf(brokerId: number): number | undefined {
    return this.lastContact.get(brokerId);
  }
}
