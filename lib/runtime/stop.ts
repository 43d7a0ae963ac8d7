// Jupyter's Stop button during a long loop. The kernel hears it as SIGINT; tslab's own handler only
// ends the cell with an error and lets an `await`ed loop run on in the background, still changing the
// weights. While a loop listens, its handler takes SIGINT's place: the loop ends after its current
// step, the cell finishes normally, and tslab's handler comes back.
export class StopRequest {
  private hostListeners: NodeJS.SignalsListener[] = [];
  private readonly onSignal = () => {
    this.requested = true;
  };
  /** True once Stop was pressed. */
  requested = false;
  /** False outside a kernel: a plain script keeps Ctrl-C's usual meaning (end the process). */
  readonly listening: boolean;
  private lastPoll = performance.now();

  private constructor() {
    this.hostListeners = process.listeners("SIGINT");
    this.listening = this.hostListeners.length > 0;
    if (!this.listening) return;
    for (const listener of this.hostListeners) process.removeListener("SIGINT", listener);
    process.on("SIGINT", this.onSignal);
  }

  /**
   * Starts listening for Stop; call `close()` when the loop ends (in a `finally`). Async because a
   * cell's synchronous part runs with every SIGINT listener taken off (Node's vm breakOnSigint, which
   * tslab uses): only after the first await are the kernel's listeners back to be taken over.
   */
  static async listen(): Promise<StopRequest> {
    await checkEvents();
    return new StopRequest();
  }

  /**
   * Lets Stop be heard inside a loop: it arrives as an event (the kernel's SIGINT), so yield to the
   * event loop, at most every 50 ms. Call once per step; then check `requested`.
   */
  async poll(): Promise<void> {
    if (!this.listening || performance.now() - this.lastPoll <= 50) return;
    await checkEvents();
    this.lastPoll = performance.now();
  }

  /** Hands SIGINT back to the kernel. */
  close(): void {
    if (!this.listening) return;
    process.removeListener("SIGINT", this.onSignal);
    for (const listener of this.hostListeners) process.on("SIGINT", listener);
    this.hostListeners = [];
  }
}

/** Lets a pending signal or I/O event be handled; cheaper than a timer (no 1 ms minimum). */
export function checkEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
