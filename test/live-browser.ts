// What the live-mode tests in Chromium share: a site built with live mode and served on 127.0.0.1,
// pages opened with every request outside the site refused and remembered, Run all, and the outputs' text.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Browser, type Page, launchBrowser } from "../scripts/browser";
import { type SitePage, buildSite } from "../scripts/build-site";
import { serveDirectory } from "../scripts/check-site";
import { projectRoot } from "../scripts/cli";

export const minutes = 60_000;

export interface LiveSite {
  dir: string;
  pages: SitePage[];
  url: string;
  browser: Browser;
  /** Requests that tried to leave the site (refused): a test's after hook asserts there were none. */
  outside: string[];
  close(): Promise<void>;
}

/** Builds a live site from `notebooks` in a fresh folder under build/tmp, serves it and starts Chromium. */
export async function startLiveSite(notebooks: string[], chromium: string | undefined): Promise<LiveSite> {
  const tmp = path.join(projectRoot, "build", "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmp, "live-"));
  const { pages } = await buildSite(notebooks, path.join(dir, "site"), { live: true });
  const server = await serveDirectory(path.join(dir, "site"));
  const browser = await launchBrowser(chromium);
  return {
    dir, pages, url: server.url, browser, outside: [],
    async close() {
      await browser.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a page of the site; anything not from the site is refused and remembered in `site.outside`. */
export async function openLive(site: LiveSite, file: string): Promise<Page> {
  const page = await site.browser.newPage();
  await page.route((url) => !url.href.startsWith(site.url), (route) => {
    site.outside.push(route.request().url());
    return route.abort();
  });
  await page.goto(`${site.url}/${file}`);
  return page;
}

/** Presses Run all and waits for the status line to say it ended ("Done." or "Stopped ..."). */
export async function runAll(page: Page, timeoutMs: number): Promise<string> {
  await page.click(".live-run-all");
  await page.waitForFunction(() => /^(Done|Stopped)/.test(document.querySelector(".live-status")?.textContent ?? ""), undefined, { timeout: timeoutMs });
  return (await page.textContent(".live-status")) ?? "";
}

/** The text of every cell's outputs, in order. */
export const outputsText = (page: Page): Promise<string> =>
  page.evaluate(() => Array.from(document.querySelectorAll(".outputs"), (o) => (o as HTMLElement).innerText).join("\n"));
