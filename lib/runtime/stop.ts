// Jupyter's Stop button during a long loop. The kernel hears it as SIGINT; tslab's own handler only
// ends the cell with an error and lets an `await`ed loop run on in the background, still changing the
// weights. While a loop listens, its handler takes SIGINT's place: the loop ends after its current
// step, the cell finishes normally, and tslab's handler comes back.
// Loops may listen at the same time (a cell that trains here while a worker trains another model): the
// first takes SIGINT over, Stop reaches every loop listening, and the last to close hands it back.
const listeningRequests = new Set<StopRequest>();
let hostListeners: NodeJS.SignalsListener[] = [];
const onSignal = () => listeningRequests.forEach((request) => (request.requested = true));

export class StopRequest {
  /** True once Stop was pressed. */
  requested = false;
  /** False outside a kernel: a plain script keeps Ctrl-C's usual meaning (end the process). */
  readonly listening: boolean;
  private lastPoll = performance.now();

  private constructor() {
    this.listening = listeningRequests.size > 0 || process.listeners("SIGINT").length > 0;
    if (!this.listening) return;
    if (listeningRequests.size === 0) {
      hostListeners = process.listeners("SIGINT");
      for (const listener of hostListeners) process.removeListener("SIGINT", listener);
      process.on("SIGINT", onSignal);
    }
    listeningRequests.add(this);
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

  /** Stops listening; the last loop to close hands SIGINT back to the kernel. */
  close(): void {
    if (!listeningRequests.delete(this) || listeningRequests.size > 0) return;
    process.removeListener("SIGINT", onSignal);
    for (const listener of hostListeners) process.on("SIGINT", listener);
    hostListeners = [];
  }
}

/** Lets a pending signal or I/O event be handled; cheaper than a timer (no 1 ms minimum). */
export function checkEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
