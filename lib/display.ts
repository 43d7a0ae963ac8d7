// Rich output in a tslab notebook cell (HTML, SVG), with a plain-text stand-in outside a notebook,
// so library code that shows things also runs in tests and scripts.
import type { Display } from "tslab";

function tslabDisplay(): Display | undefined {
  try {
    return (require("tslab") as typeof import("tslab")).display;
  } catch {
    return undefined; // tslab is not installed: not a notebook
  }
}

/** Shows HTML under the current cell; returns false (and prints `fallbackText`) outside a notebook. */
export function showHtml(html: string, fallbackText?: string): boolean {
  return showWith((display) => display.html(html), fallbackText);
}

/** Shows an SVG image under the current cell; returns false (and prints `fallbackText`) outside a notebook. */
export function showSvg(svg: string, fallbackText?: string): boolean {
  return showWith((display) => display.svg(svg), fallbackText);
}

function showWith(send: (display: Display) => void, fallbackText?: string): boolean {
  const display = tslabDisplay();
  try {
    if (display) {
      send(display);
      return true;
    }
  } catch (error) {
    // tslab throws "Not ready" when its display is used outside a running kernel.
    if ((error as Error).message !== "Not ready") throw error;
  }
  if (fallbackText) console.log(fallbackText);
  return false;
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

  update(html: string, fallbackText: string): void {
    if (this.display) {
      try {
        this.display.html(html);
        return;
      } catch (error) {
        if ((error as Error).message !== "Not ready") throw error;
      }
    }
    console.log(fallbackText);
  }
}

/** Escapes text for safe use inside HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
