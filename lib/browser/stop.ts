// Browser build of lib/runtime/stop.ts: the page's Stop button (a message to the worker) in place of
// the kernel's SIGINT. Same interface: the loop ends after its current step, keeping the weights.
import { host, yieldToMessages } from "./host";

export class StopRequest {
  readonly listening = true;
  private lastPoll = performance.now();

  get requested(): boolean {
    return host.stopRequested;
  }

  static async listen(): Promise<StopRequest> {
    return new StopRequest();
  }

  /** Lets the Stop message in, at most every 50 ms. */
  async poll(): Promise<void> {
    if (performance.now() - this.lastPoll <= 50) return;
    await yieldToMessages();
    this.lastPoll = performance.now();
  }

  close(): void {}
}

export function checkEvents(): Promise<void> {
  return yieldToMessages();
}
