// Live mode's files for the site (build/site/assets/live/ and build/site/data/): the library bundled
// for the browser, TensorFlow.js's .wasm files, the TypeScript compiler, danfojs, the worker that runs
// cells and the page script that adds the buttons, the type checker's declaration files, the tokenizers'
// merge ranks (loaded only by the pages that use them); and the site's copies of the two data sets.
//
// The browser build is lib/ itself, with its Node-only modules (data, checkpoints, the engine's start,
// tslab's display, SIGINT's Stop, quick mode's environment variable, worker threads) swapped for lib/browser/'s.
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as esbuild from "esbuild";
import { DATASETS, type DatasetName } from "../lib/datasets";
import { ensureDataset } from "../lib/data";
import { ranksFile, ranksGlobal } from "../lib/browser/tiktoken-ranks";
import { projectRoot } from "./cli";
import { collectDeclarations } from "./live-declarations";

const lib = path.join(projectRoot, "lib");
const browserDir = path.join(lib, "browser");

/** lib/ modules whose browser versions live in lib/browser/ under the same name. */
const swapped: Record<string, string> = {
  [path.join(lib, "data.ts")]: "data.ts",
  [path.join(lib, "checkpoint.ts")]: "checkpoint.ts",
  [path.join(lib, "display", "display.ts")]: "display.ts",
  [path.join(lib, "display", "plotly-script.ts")]: "plotly-script.ts",
  [path.join(lib, "runtime", "stop.ts")]: "stop.ts",
  [path.join(lib, "runtime", "quick-mode.ts")]: "quick-mode.ts",
  [path.join(lib, "runtime", "parallel.ts")]: "parallel.ts",
  [path.join(lib, "engine", "engine.ts")]: "engine.ts",
  [path.join(lib, "tiktoken-ranks.ts")]: "tiktoken-ranks.ts",
};

const nodeBuiltins = /^(node:)?(fs|path|os|crypto|http|https|stream|stream\/promises|url|worker_threads|child_process|util|zlib|buffer|events|string_decoder|perf_hooks)$/;

const browserPlugin: esbuild.Plugin = {
  name: "zero-to-hero-browser",
  setup(build) {
    build.onResolve({ filter: nodeBuiltins }, () => ({ path: path.join(browserDir, "node-builtin.ts") }));
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const base = path.resolve(args.resolveDir, args.path);
      const file = [base, `${base}.ts`].find((candidate) => swapped[candidate]);
      return file ? { path: path.join(browserDir, swapped[file]) } : undefined;
    });
  },
};

/** A package's import served by a global of the page or worker (e.g. danfojs's TensorFlow.js is the library's). */
function globalsPlugin(globals: Record<string, string>): esbuild.Plugin {
  return {
    name: "globals",
    setup(build) {
      const filter = new RegExp(`^(${Object.keys(globals).map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "global" }));
      build.onLoad({ filter: /.*/, namespace: "global" }, (args) => ({ contents: `module.exports = ${globals[args.path]};`, loader: "js" }));
    },
  };
}

const common: esbuild.BuildOptions = { bundle: true, minify: true, format: "iife", target: "es2022", platform: "browser", logLevel: "error", legalComments: "none" };

export interface LiveFiles {
  /** Each file written and its size in bytes. */
  sizes: Record<string, number>;
}

/** Writes live mode's files into `siteDir`, with the data sets from the data cache (fetched and checked as lib/data.ts does). */
export async function buildLive(siteDir: string): Promise<LiveFiles> {
  const out = path.join(siteDir, "assets", "live");
  fs.mkdirSync(out, { recursive: true });
  const define = { "process.env.NODE_ENV": '"production"' };
  // keepNames: cells print class names (notebook 04 lists its layers by `constructor.name`), which minifying would shorten.
  await esbuild.build({ ...common, entryPoints: [path.join(browserDir, "index.ts")], outfile: path.join(out, "zero-to-hero.js"), globalName: "ZeroToHero", plugins: [browserPlugin], define, keepNames: true });
  await esbuild.build({
    ...common, entryPoints: [require.resolve("danfojs")], outfile: path.join(out, "danfojs.js"), globalName: "dfd", define,
    plugins: [globalsPlugin({ "@tensorflow/tfjs": "self.ZeroToHero.tf", "plotly.js-dist-min": "self.Plotly" }), browserPlugin],
  });
  await esbuild.build({ ...common, entryPoints: [require.resolve("typescript")], outfile: path.join(out, "typescript.js"), globalName: "ts", plugins: [browserPlugin], define });
  await esbuild.build({ ...common, entryPoints: [path.join(__dirname, "live", "worker.ts")], outfile: path.join(out, "worker.js") });
  await esbuild.build({ ...common, entryPoints: [path.join(__dirname, "live", "page.ts")], outfile: path.join(out, "page.js") });
  for (const name of ["gpt2", "cl100k_base"] as const) {
    await esbuild.build({ ...common, entryPoints: [require.resolve(`js-tiktoken/ranks/${name}`)], outfile: path.join(siteDir, ranksFile(name)), globalName: ranksGlobal(name) });
  }
  const wasmDist = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  for (const file of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) fs.copyFileSync(path.join(wasmDist, file), path.join(out, file));
  fs.writeFileSync(path.join(out, "declarations.json"), JSON.stringify(collectDeclarations()));
  await copyDatasets(path.join(siteDir, "data"));
  const sizes: Record<string, number> = {};
  for (const file of fs.readdirSync(out)) sizes[`assets/live/${file}`] = fs.statSync(path.join(out, file)).size;
  return { sizes };
}

/** The site's copies of the data sets: the verified cache files, checked again after copying. */
async function copyDatasets(to: string): Promise<void> {
  fs.mkdirSync(to, { recursive: true });
  for (const [name, spec] of Object.entries(DATASETS)) {
    const source = await ensureDataset(name as DatasetName);
    const bytes = fs.readFileSync(source);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 !== spec.sha256) throw new Error(`${source} changed while copying (SHA-256 ${sha256}, expected ${spec.sha256}): build the site again.`);
    fs.writeFileSync(path.join(to, spec.file), bytes);
  }
}
