// Lecture 03's training step in Chromium (live mode: the library's browser build in a Web Worker)
// against Node (the same cell, compiled the same way), side by side: rounds alternate, one warm-up
// round each first. Both run TensorFlow.js's WASM backend with SIMD on one thread; with --webgl,
// Chromium's WebGL backend runs the same cell too, in the same alternation.
//
//   tsx scripts/bench-live.ts [--rounds 3] [--steps 1000] [--webgl]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { launchBrowser } from "./browser";
import { buildSite } from "./build-site";
import { serveDirectory } from "./check-site";
import { projectRoot, runMain } from "./cli";
import { compileCell } from "./live/compile-cell";
import { writeNotebook } from "./notebook-file";

/** Trains lecture 03's MLP (its settings and data) for `steps` steps; the cell's value is steps per second. */
function benchCell(steps: number, engine: "wasm" | "webgl" = "wasm"): string {
  return `import { initEngine, loadNames, namesTokenizer, splitWords, PythonRandom, buildDataset, MLPLanguageModel, Generator, train, randomBatches } from "zero-to-hero";
await initEngine({ engine: "${engine}" });
const words = await loadNames();
const tokenizer = namesTokenizer(words);
const config = { vocabSize: tokenizer.vocabSize, blockSize: 3, nEmbd: 10, nHidden: 200, batchSize: 32 };
const trainSet = buildDataset(splitWords(words, new PythonRandom(42)).train, tokenizer, config.blockSize);
const model = new MLPLanguageModel(config, new Generator(2147483647));
const result = await train(model, randomBatches(trainSet, config.batchSize, new Generator(1)), { steps: ${steps}, learningRate: 0.1 });
model.dispose();
result.stepsPerSecond`;
}

async function inNode(source: string): Promise<number> {
  (globalThis as Record<string, unknown>).__zthModules = { "zero-to-hero": await import("../lib") };
  const AsyncFunction = (async () => undefined).constructor as new (body: string) => () => Promise<unknown>;
  const log = console.log;
  console.log = () => undefined; // the progress lines a script prints outside a notebook
  try {
    return Number(await new AsyncFunction(compileCell(ts, source).body)());
  } finally {
    console.log = log;
  }
}

async function main(argv: string[]): Promise<number> {
  const option = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
  const rounds = option("--rounds", 3);
  const source = benchCell(option("--steps", 1000));
  const tmp = path.join(projectRoot, "build", "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmp, "bench-live-"));
  try {
    const webgl = argv.includes("--webgl");
    const notebooks = [["bench", source], ...(webgl ? [["bench-webgl", benchCell(option("--steps", 1000), "webgl")]] : [])].map(([name, cell]) => {
      const notebook = path.join(dir, `${name}.ipynb`);
      writeNotebook(notebook, {
        cells: [{ cell_type: "code", id: "bench", metadata: {}, execution_count: null, outputs: [], source: cell }],
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } }, nbformat: 4, nbformat_minor: 5,
      });
      return notebook;
    });
    await buildSite(notebooks, path.join(dir, "site"), { live: true });
    const server = await serveDirectory(path.join(dir, "site"));
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${server.url}/bench.html`);
    const glPage = webgl ? await browser.newPage() : undefined;
    await glPage?.goto(`${server.url}/bench-webgl.html`);
    const inChromium = async (on = page) => {
      await on.click(".live-run-all");
      await on.waitForFunction(() => /^(Done|Stopped)/.test(document.querySelector(".live-status")?.textContent ?? ""), undefined, { timeout: 600_000 });
      const text = await on.innerText(".outputs");
      const value = Number(text.trim().split("\n").pop());
      if (!Number.isFinite(value)) throw new Error(`the benchmark cell failed in Chromium:\n${text}`);
      return value;
    };
    console.log(`load before: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`);
    await inNode(source);
    await inChromium(); // warm-up rounds
    if (glPage) await inChromium(glPage);
    const node: number[] = [];
    const chromium: number[] = [];
    const gl: number[] = [];
    for (let round = 0; round < rounds; round++) {
      node.push(await inNode(source));
      chromium.push(await inChromium());
      if (glPage) gl.push(await inChromium(glPage));
      console.log(`round ${round + 1}: Node ${node[round].toFixed(0)} steps/s, Chromium ${chromium[round].toFixed(0)} steps/s${glPage ? `, Chromium WebGL ${gl[round].toFixed(1)} steps/s` : ""}`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(`median: Node ${median(node).toFixed(0)} steps/s, Chromium ${median(chromium).toFixed(0)} steps/s: Chromium/Node ${(median(chromium) / median(node)).toFixed(2)}`);
    if (glPage) console.log(`median: Chromium WebGL ${median(gl).toFixed(1)} steps/s: WASM/WebGL ${(median(chromium) / median(gl)).toFixed(1)}`);
    console.log(`load after: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`);
    await browser.close();
    await server.close();
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(module, main);
