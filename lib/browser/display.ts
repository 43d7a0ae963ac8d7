// Browser build of lib/display/display.ts: outputs go to the page (through the worker) instead of
// tslab's display.
import { host, yieldToMessages } from "./host";

export function showHtml(html: string): void {
  host.post({ kind: "html", html: html });
}

let displays = 0;

/** A display area that each update replaces, as tslab's newDisplay. */
export class LiveDisplay {
  private readonly id = `live-${++displays}`;

  async update(html: string, fallbackText: string): Promise<void> {
    host.post({ kind: "html", html: `<div data-live-text="${escapeHtml(fallbackText)}">${html}</div>`, displayId: this.id });
    await yieldToMessages();
  }
}

export function yieldToEventLoop(): Promise<void> {
  return yieldToMessages();
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
