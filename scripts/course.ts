// `npm run course`: runs every notebook through the tslab kernel (run-notebooks.ts), renders the site
// from the executed notebooks with a picture of every plot (build-site.ts), checks the site in
// headless Chromium (check-site.ts), and ends with a table of each lecture's time and key result.
//
//   tsx scripts/course.ts [--quick] [notebooks/x.ipynb ...]     (--help for the usage)
//
// Leaves build/notebooks/*.ipynb (executed, with plot pictures: for GitHub, nbviewer, Jupyter) and
// build/site/ (open build/site/index.html, or publish the folder on any static host).
// Without Chromium the site is still written, without plot pictures or the check; this says so once.
import * as fs from "node:fs";
import * as path from "node:path";
import { findChromium, launchBrowser, noChromiumHint } from "./browser";
import { buildSite, siteDir } from "./build-site";
import { checkSite, formatSiteCheck } from "./check-site";
import { listNotebooks, runNotebooks, formatSummary } from "./run-notebooks";
import { notebookArguments, runMain } from "./cli";

const usage = `Usage: npx tsx scripts/course.ts [--quick] [notebook.ipynb ...]   (npm run course)
Runs the notebooks (by default every notebooks/*.ipynb) through the tslab kernel, renders the site
build/site/ from them and checks it in Chromium, and ends with a table of each notebook's time and
key result. Exits 1 when a notebook failed or the site has problems.
  --quick   shortened training (ZTH_QUICK=1)
  --help    this text
Environment: ZTH_DATA_MIRROR, a folder or URL holding the data sets; CHROMIUM, the browser to use.`;

async function main(argv: string[]): Promise<number> {
  const args = notebookArguments(argv, usage);
  if (!args) return 0;
  const { quick } = args;
  const notebooks = args.notebooks.length > 0 ? args.notebooks : listNotebooks();
  if (notebooks.length === 0) throw new Error("No notebooks found in notebooks/.");

  const results = await runNotebooks(notebooks, { quick });
  // A notebook that could not be read has no executed copy: the site shows the others.
  const executed = results.map((r) => r.outputPath).filter((file) => fs.existsSync(file));

  const chromium = findChromium();
  if (!chromium) console.log(`\nnote: no Chromium, so the site gets no plot pictures and no browser check: ${noChromiumHint}.`);
  const browser = chromium ? await launchBrowser(chromium) : undefined;
  let siteOk = true;
  try {
    let started = Date.now();
    console.log(`\nRendering the site${browser ? " with plot pictures" : ""}...`);
    const site = await buildSite(executed, siteDir, { browser, live: true });
    for (const problem of site.problems) console.log(`  problem: ${problem}`);
    console.log(`Site: ${path.relative(process.cwd(), site.index)} and ${site.pages.length} lecture page(s) (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    siteOk = site.problems.length === 0;
    if (browser) {
      started = Date.now();
      console.log(`\nChecking the site in ${chromium}...`);
      const check = await checkSite(siteDir, site.pages, { browser });
      console.log(formatSiteCheck(check));
      console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
      siteOk &&= check.ok;
    }
  } finally {
    await browser?.close();
  }

  console.log("\n" + formatSummary(results.map((r) => ({ notebook: path.basename(r.notebook), status: r.ok ? "ok" : "FAILED", seconds: r.seconds, result: r.result }))));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed${siteOk ? "" : "; the site has problems (see above)"}`);
  return failed > 0 || !siteOk ? 1 : 0;
}

runMain(module, main);
