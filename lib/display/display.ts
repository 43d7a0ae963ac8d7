// Rich output in a tslab notebook cell (HTML), with a plain-text stand-in outside a notebook,
// so library code that shows things also runs in tests and scripts.
import type { Display } from "tslab";

function tslabDisplay(): Display | undefined {
  try {
    return (require("tslab") as typeof import("tslab")).display;
  } catch {
    return undefined; // tslab is not installed: not a notebook
  }
}

/**
 * Shows HTML under the current cell; outside a notebook it prints `fallbackText` instead.
 * (Images go in as <img> inside HTML: nbconvert's HTML export empties image/svg+xml outputs.)
 */
export function showHtml(html: string, fallbackText?: string): void {
  const display = tslabDisplay();
  try {
    if (display) return display.html(html);
  } catch (error) {
    // tslab throws "Not ready" when its display is used outside a running kernel.
    if ((error as Error).message !== "Not ready") throw error;
  }
  if (fallbackText) console.log(fallbackText);
}

/**
 * A display area that each `update` replaces (tslab's `newDisplay`): one updating line of training
 * progress instead of thousands of printed lines. Outside a notebook, updates are printed.
 */
export class LiveDisplay {
  private readonly display: Display | undefined;

  constructor() {
    try {
      this.display = (require("tslab") as typeof import("tslab")).newDisplay();
    } catch {
      this.display = undefined;
    }
  }

  /**
   * Replaces the display's content. Await it: it then yields to the event loop, so the kernel sends
   * the update now. A loop that never yields would show nothing until the cell ends, and a second
   * update queued behind an unsent one makes tslab's socket throw ("Socket is busy writing").
   */
  async update(html: string, fallbackText: string): Promise<void> {
    if (this.display) {
      try {
        // The text rides along as an attribute, for tools that show live progress outside a browser
        // (the course runner's terminal line), whatever the HTML is: a progress line or a whole plot.
        this.display.html(`<div data-live-text="${escapeHtml(fallbackText)}">${html}</div>`);
        return await yieldToEventLoop();
      } catch (error) {
        if ((error as Error).message !== "Not ready") throw error;
      }
    }
    console.log(fallbackText);
  }
}

/** Lets pending I/O (such as a display update on its way to the notebook) go out. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Escapes text for safe use inside HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
