// Headless Chromium for the scripts that look at pages (plot pictures, the site check): the system's
// Chromium through playwright-core, which never downloads a browser of its own.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

export const noChromiumHint = "install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM to its path";

/** Flags for a quiet, offline, throw-away browser: no first-run pages, no background requests. */
const chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Headless Chromium; close it when done. playwright gives each launch a fresh profile in a temporary
 * folder of its own (it refuses a --user-data-dir flag) and removes it on close.
 */
export async function launchBrowser(chromiumPath?: string): Promise<Browser> {
  const executablePath = chromiumPath ?? findChromium();
  if (!executablePath) throw new Error(`No Chromium found: ${noChromiumHint}.`);
  // Loaded here, not at the top, so the notebook runner works where playwright-core is absent.
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: chromiumFlags });
}

/**
 * How long a page may take to draw its plots (plotly.js itself is ~5 MB of script; a busy 2-core
 * machine is slow). The wait ends as soon as every plot is drawn, so a long limit costs nothing on a
 * good page.
 */
const drawTimeoutMs = 60_000;

/** Waits until plotly drew an SVG into every plot container, or gives up after `timeoutMs`. */
export async function waitForPlots(page: Page, timeoutMs: number = drawTimeoutMs): Promise<void> {
  await page
    .waitForFunction(
      () => Array.from(document.querySelectorAll(".zth-plot")).every((div) => div.querySelector(".main-svg")),
      undefined,
      { timeout: timeoutMs },
    )
    .catch(() => undefined);
}

/** Opens a local page (file path or http URL); any request to another host is refused at once. */
export async function openPage(page: Page, fileOrUrl: string): Promise<void> {
  const url = /^https?:/.test(fileOrUrl) ? fileOrUrl : `file://${path.resolve(fileOrUrl)}`;
  const origin = url.startsWith("file:") ? "file:" : new URL(url).origin;
  await page.route((target) => !target.href.startsWith(origin) && !target.href.startsWith("data:"), (route) => route.abort());
  await page.goto(url, { waitUntil: "load" });
}

export type { Browser, BrowserContext, Page };
