// Opens the exported notebook pages in headless Chromium and checks that plotly drew every plot
// and that no script on the page threw. A plot that silently fails to draw is otherwise only
// noticed by a reader.
//
//   tsx scripts/check-html.ts [build/html/x.html ...]    (default: every build/html/*.html)
//
// Uses the system Chromium (CHROMIUM, else /usr/bin/chromium) through playwright-core, which never
// downloads a browser of its own. Screenshots go to build/screenshots/.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { projectRoot } from "./cli";
import { filesIn, runMain } from "./cli";

export const htmlDir = path.join(projectRoot, "build", "html");
export const screenshotDir = path.join(projectRoot, "build", "screenshots");

export interface PageReport {
  file: string;
  plots: number; // plot containers: <div class="zth-plot">
  drawn: number; // of those, the ones plotly drew an SVG into
  pageErrors: string[]; // uncaught exceptions in the page's scripts
  consoleErrors: string[]; // reported, not failed on: e.g. the page's links to online resources
  screenshot?: string;
  seconds: number;
  ok: boolean;
}

export interface HtmlReport {
  ok: boolean;
  pages: PageReport[];
}

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

/** How long a page may take to draw its plots (plotly.js itself is ~5 MB of inline script). */
const drawTimeoutMs = 10_000;

/** Headless Chromium (the system's, never a download) for the HTML scripts; close it when done. */
export async function launchBrowser(chromiumPath?: string): Promise<Browser> {
  const executablePath = chromiumPath ?? findChromium();
  if (!executablePath) throw new Error("No Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM.");
  // Loaded here, not at the top, so the notebook runner works where playwright-core is absent.
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
}

/** Opens an exported page offline: anything it would fetch from the network is refused at once
 *  instead of waiting for a timeout (nbconvert's template links require.js and MathJax online). */
export async function openPage(page: Page, file: string): Promise<void> {
  await page.route(/^https?:/, (route) => route.abort());
  await page.goto(`file://${path.resolve(file)}`, { waitUntil: "load" });
}

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

/** `browser`: reuse an open browser (left open); otherwise one is launched and closed here. */
export async function checkHtml(
  files: string[],
  options: { chromium?: string; screenshots?: boolean; browser?: Browser } = {},
): Promise<HtmlReport> {
  const browser = options.browser ?? (await launchBrowser(options.chromium));
  const pages: PageReport[] = [];
  try {
    for (const file of files) {
      const started = Date.now();
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const pageErrors: string[] = [];
      const consoleErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      // A page must work offline.
      await openPage(page, file);
      const plots = await page.locator(".zth-plot").count();
      // Plotly draws asynchronously; wait until every container has its SVG, or give up and count.
      await waitForPlots(page);
      const drawn = await page.locator(".zth-plot:has(.main-svg)").count();
      let screenshot: string | undefined;
      if (options.screenshots ?? true) {
        fs.mkdirSync(screenshotDir, { recursive: true });
        screenshot = path.join(screenshotDir, path.basename(file, ".html") + ".png");
        await page.screenshot({ path: screenshot, fullPage: true });
      }
      await page.close();
      pages.push({ file, plots, drawn, pageErrors, consoleErrors, screenshot, seconds: (Date.now() - started) / 1000, ok: drawn === plots && pageErrors.length === 0 });
    }
  } finally {
    if (!options.browser) await browser.close();
  }
  return { ok: pages.every((p) => p.ok), pages };
}

export function formatHtmlReport(report: HtmlReport): string {
  const lines: string[] = [];
  for (const page of report.pages) {
    const name = path.relative(process.cwd(), page.file);
    lines.push(`${page.ok ? "ok    " : "FAILED"} ${name}: ${page.drawn}/${page.plots} plots drawn, ${page.pageErrors.length} page error(s) (${page.seconds.toFixed(1)} s)`);
    for (const error of page.pageErrors) lines.push(`         page error: ${error}`);
    if (page.drawn < page.plots) lines.push(`         ${page.plots - page.drawn} plot(s) not drawn by plotly`);
    for (const error of page.consoleErrors) lines.push(`         (console: ${error})`);
    if (page.screenshot) lines.push(`         screenshot: ${path.relative(process.cwd(), page.screenshot)}`);
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const files = argv.length > 0 ? argv : filesIn(htmlDir, ".html");
  if (files.length === 0) {
    console.log("No HTML pages to check: run `npm run course` first (it writes build/html/).");
    return 1;
  }
  const report = await checkHtml(files);
  console.log(formatHtmlReport(report));
  return report.ok ? 0 : 1;
}

runMain(module, main);
