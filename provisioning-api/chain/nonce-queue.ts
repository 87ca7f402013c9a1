/**
 * One signer's nonces, handed out in order, one holder at a time. ethers' own nonce handling
 * reads `eth_getTransactionCount` per send and re-uses nonces under load (PITFALLS.md, Chain);
 * here the counter lives in the process and each send holds the queue from taking its nonce
 * until its transaction is recorded and broadcast, so transactions also reach the node in
 * nonce order (Hardhat rejects gaps; anvil queues them).
 *
 * A holder that fails leaves the counter unknown: the next holder reads it again from its
 * source (the chain's pending count and the outbox's highest recorded nonce), which is right
 * whether or not the failed holder's transaction was recorded.
 */
export type NonceSource = () => Promise<number>;

export class NonceQueue {
  private next: number | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly source: NonceSource) {}

  /**
   * Runs `use` with the next nonce once every earlier holder is done. The nonce counts as
   * used when `use` resolves; if it throws, the counter is read again for the next holder.
   */
  run<T>(use: (nonce: number) => Promise<T>): Promise<T> {
    const turn = this.tail.then(async () => {
      try {
        this.next ??= await this.source();
        const nonce = this.next;
        const value = await use(nonce);
        this.next = nonce + 1;
        return value;
      } catch (e) {
        this.next = undefined;
        throw e;
      }
    });
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /** Forget the counter (after another process sent with the same key): the next holder reads it. */
  reset(): void {
    this.next = undefined;
  }
}
