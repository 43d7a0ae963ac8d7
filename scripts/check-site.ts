// Checks the site (build-site.ts) in headless Chromium, served on 127.0.0.1 as a static host would:
// every page draws its expected plots, shows its formulas as KaTeX (with KaTeX's fonts loaded), logs
// no console error, and requests nothing outside its own folder; with JavaScript disabled, every plot
// still shows its picture. Screenshots of each page go to build/screenshots/site/.
//
//   tsx scripts/check-site.ts      (the site in build/site/, made from build/notebooks/)
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { type Browser, findChromium, launchBrowser, noChromiumHint, waitForPlots } from "./browser";
import { type SitePage, executedNotebooksDir, sitePages, siteDir } from "./build-site";
import { filesIn, projectRoot, runMain, twoAtATime } from "./cli";

export const siteScreenshotDir = path.join(projectRoot, "build", "screenshots", "site");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".json": "application/json",
  ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".png": "image/png", ".svg": "image/svg+xml",
  ".ipynb": "application/json", ".wasm": "application/wasm", ".txt": "text/plain; charset=utf-8",
};

/** A static file server for `dir` on 127.0.0.1 and `port` (0: a free one). */
export async function serveDirectory(dir: string, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const root = path.resolve(dir);
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const file = path.join(root, urlPath.endsWith("/") ? urlPath + "index.html" : urlPath);
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end("not found");
      return;
    }
    response.writeHead(200, { "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface PageCheck {
  page: string;
  expectedPlots: number;
  drawn: number;
  /** With JavaScript disabled: plots showing a loaded picture. */
  pictures: number;
  expectedFormulas: number;
  formulas: number; // .katex elements
  formulaErrors: number;
  katexFontLoaded: boolean;
  consoleErrors: string[];
  pageErrors: string[];
  outsideRequests: string[];
  failedRequests: string[];
  screenshot?: string;
  seconds: number;
  problems: string[];
}

export interface SiteCheck {
  ok: boolean;
  index: { links: string[]; problems: string[] };
  pages: PageCheck[];
}

/** Opens every page of the site in `dir` (index included) and checks it; `pages` says what each should show. */
export async function checkSite(dir: string, pages: SitePage[], options: { browser: Browser; screenshots?: boolean }): Promise<SiteCheck> {
  const server = await serveDirectory(dir);
  try {
    const index = await checkIndex(options.browser, server.url, pages);
    const checks = await twoAtATime(pages, (page) => checkPage(options.browser, server.url, page, options.screenshots ?? true));
    return { ok: index.problems.length === 0 && checks.every((c) => c.problems.length === 0), index, pages: checks };
  } finally {
    await server.close();
  }
}

async function checkIndex(browser: Browser, baseUrl: string, pages: SitePage[]): Promise<SiteCheck["index"]> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.goto(`${baseUrl}/index.html`);
    const links = await page.$$eval("ol.lectures a", (anchors) => anchors.map((a) => a.getAttribute("href") ?? ""));
    const problems = errors.map((e) => `index.html: console error: ${e}`);
    const missing = pages.map((p) => path.basename(p.file)).filter((name) => !links.includes(name));
    if (missing.length > 0) problems.push(`index.html does not link to ${missing.join(", ")}`);
    return { links, problems };
  } finally {
    await page.close();
  }
}

async function checkPage(browser: Browser, baseUrl: string, page: SitePage, screenshots: boolean): Promise<PageCheck> {
  const started = Date.now();
  const name = path.basename(page.file);
  const url = `${baseUrl}/${encodeURIComponent(name)}`;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const outsideRequests: string[] = [];
  const failedRequests: string[] = [];

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const tab = await context.newPage();
  tab.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
  tab.on("pageerror", (error) => pageErrors.push(error.message));
  tab.on("requestfailed", (request) => !outsideRequests.includes(request.url()) && failedRequests.push(`${request.url()} (${request.failure()?.errorText})`));
  tab.on("response", (response) => response.status() >= 400 && failedRequests.push(`${response.url()} (HTTP ${response.status()})`));
  // Anything outside the served folder is recorded and refused at once.
  await context.route((target) => !target.href.startsWith(baseUrl + "/") && !target.href.startsWith("data:"), (route) => {
    outsideRequests.push(route.request().url());
    return route.abort();
  });
  await tab.goto(url, { waitUntil: "load" });
  await waitForPlots(tab);
  const seen = await tab.evaluate(async () => {
    await document.fonts.ready;
    return {
      drawn: Array.from(document.querySelectorAll(".zth-plot")).filter((div) => div.querySelector(".main-svg")).length,
      formulas: document.querySelectorAll(".katex").length,
      formulaErrors: document.querySelectorAll(".katex-error, .math-error").length,
      katexFontLoaded: Array.from(document.fonts).some((font) => font.family.replace(/"/g, "") === "KaTeX_Main" && font.status === "loaded"),
    };
  });
  let screenshot: string | undefined;
  if (screenshots) {
    fs.mkdirSync(siteScreenshotDir, { recursive: true });
    screenshot = path.join(siteScreenshotDir, name.replace(/\.html$/, ".png"));
    await tab.screenshot({ path: screenshot, fullPage: true });
  }
  await context.close();

  // The same page for a reader without scripts: every plot's picture must show.
  const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
  const plain = await noScript.newPage();
  await noScript.route((target) => !target.href.startsWith(baseUrl + "/") && !target.href.startsWith("data:"), (route) => route.abort());
  await plain.goto(url, { waitUntil: "load" });
  const pictures = await plain.$$eval(".zth-plot", (divs) =>
    divs.filter((div) => {
      const img = div.querySelector("img");
      return !!img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0;
    }).length);
  await noScript.close();

  const problems: string[] = [];
  if (seen.drawn !== page.plots) problems.push(`${seen.drawn} of ${page.plots} plots drawn`);
  if (pictures !== page.plots) problems.push(`without JavaScript, ${pictures} of ${page.plots} plots show their picture`);
  if (seen.formulas < page.formulas) problems.push(`${seen.formulas} KaTeX formulas on the page, ${page.formulas} in the notebook`);
  if (seen.formulaErrors > 0) problems.push(`${seen.formulaErrors} formula(s) failed to render`);
  if (page.formulas > 0 && !seen.katexFontLoaded) problems.push("KaTeX's font did not load");
  problems.push(...consoleErrors.map((e) => `console error: ${e}`), ...pageErrors.map((e) => `page error: ${e}`));
  problems.push(...outsideRequests.map((r) => `request outside the site: ${r}`), ...failedRequests.map((r) => `failed request: ${r}`));
  return {
    page: name, expectedPlots: page.plots, drawn: seen.drawn, pictures, expectedFormulas: page.formulas, formulas: seen.formulas,
    formulaErrors: seen.formulaErrors, katexFontLoaded: seen.katexFontLoaded, consoleErrors, pageErrors, outsideRequests, failedRequests,
    screenshot, seconds: (Date.now() - started) / 1000, problems,
  };
}

export function formatSiteCheck(check: SiteCheck): string {
  const lines = [`${check.index.problems.length === 0 ? "ok    " : "FAILED"} index.html: links to ${check.index.links.length} lecture(s)`];
  lines.push(...check.index.problems.map((p) => `         ${p}`));
  for (const page of check.pages) {
    lines.push(`${page.problems.length === 0 ? "ok    " : "FAILED"} ${page.page}: ${page.drawn}/${page.expectedPlots} plots drawn, `
      + `${page.pictures}/${page.expectedPlots} pictures without JavaScript, ${page.formulas} KaTeX formula(s) (${page.seconds.toFixed(1)} s)`);
    lines.push(...page.problems.map((p) => `         ${p}`));
    if (page.screenshot) lines.push(`         screenshot: ${path.relative(process.cwd(), page.screenshot)}`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const notebooks = filesIn(executedNotebooksDir, ".ipynb");
  if (notebooks.length === 0 || !fs.existsSync(path.join(siteDir, "index.html"))) {
    console.log("No site to check: run `npm run course` first (it writes build/site/).");
    return 1;
  }
  const chromium = findChromium();
  if (!chromium) throw new Error(`No Chromium found: ${noChromiumHint}.`);
  const browser = await launchBrowser(chromium);
  try {
    const check = await checkSite(siteDir, sitePages(notebooks, siteDir), { browser });
    console.log(formatSiteCheck(check));
    return check.ok ? 0 : 1;
  } finally {
    await browser.close();
  }
}

runMain(module, main);
