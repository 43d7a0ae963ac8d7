// Live mode's Web Worker: runs a page's cells one at a time with the kernel's semantics
// (compile-cell.ts), with the library's browser build, so the page stays responsive while training.
import type * as TS from "typescript";
import { CompileError, compileCell } from "./compile-cell";
import { formatValue } from "./format";
import { CellChecker, type DeclarationFiles } from "./type-check";

interface Library {
  browserHost: { siteUrl: string; quick: boolean; engine: "wasm" | "webgl"; stopRequested: boolean; post(output: unknown): void };
  tf: unknown;
  memoryFiles: { fs: unknown; path: unknown; os: unknown };
}
type Message = { type: "init"; siteUrl: string; engine: "wasm" | "webgl" } | { type: "run"; id: number; source: string; quick: boolean; check: boolean } | { type: "stop" };

const scope = self as unknown as {
  importScripts(...urls: string[]): void;
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<Message>) => void) | null;
  ts: typeof TS;
  ZeroToHero: Library;
  dfd: unknown;
  __zthModules: Record<string, unknown>;
};
const AsyncFunction = (async () => undefined).constructor as new (...args: string[]) => () => Promise<unknown>;

let current = 0;
const post = (message: Record<string, unknown>) => scope.postMessage({ ...message, id: current });

function load(): void {
  scope.importScripts("typescript.js", "zero-to-hero.js");
  const library = scope.ZeroToHero;
  library.browserHost.post = (output) => post({ type: "output", output: output });
  const { fs, path, os } = library.memoryFiles;
  scope.__zthModules = { "zero-to-hero": library, "@tensorflow/tfjs": library.tf, fs: fs, path: path, os: os, "node:fs": fs, "node:path": path, "node:os": os };
}

function module(name: string): void {
  if (name in scope.__zthModules) return;
  if (name === "danfojs") {
    scope.importScripts("danfojs.js");
    scope.__zthModules.danfojs = scope.dfd;
    return;
  }
  throw new Error(`import from "${name}": live mode has "zero-to-hero", "@tensorflow/tfjs", "danfojs", and "fs", "path", "os" for files in the page's memory only (processes need Jupyter).`);
}

for (const method of ["log", "info", "warn", "error"] as const) {
  console[method] = (...args: unknown[]) => {
    const text = args.map((a) => (typeof a === "string" ? a : formatValue(a))).join(" ") + "\n";
    post({ type: "output", output: { kind: "stream", name: method === "log" || method === "info" ? "stdout" : "stderr", text: text } });
  };
}

class CellTypeError extends Error {}

let checker: CellChecker | undefined;
/** Cells that ran unchecked (checking switched off), for the checker to know their declarations when switched on. */
const unchecked: string[] = [];

/** The cell's type errors thrown as tslab reports them; the first check loads the declaration files. */
async function typeCheck(source: string): Promise<number> {
  const start = performance.now();
  if (!checker) {
    const response = await fetch("declarations.json");
    if (!response.ok) throw new Error(`The type checker's declaration files did not load (HTTP ${response.status}): build the site again, or switch off "Check types".`);
    checker = new CellChecker(scope.ts, (await response.json()) as DeclarationFiles);
  }
  for (const earlier of unchecked.splice(0)) checker.check(earlier);
  const errors = checker.check(source);
  if (errors.length > 0) throw new CellTypeError(errors.join("\n"));
  return performance.now() - start;
}

async function run(source: string, quick: boolean, check: boolean): Promise<number | undefined> {
  const library = scope.ZeroToHero;
  library.browserHost.quick = quick;
  library.browserHost.stopRequested = false;
  const cell = compileCell(scope.ts, source);
  const checkMs = check ? await typeCheck(source) : undefined;
  if (!check) unchecked.push(source);
  cell.modules.forEach(module);
  const value = await new AsyncFunction(cell.body)();
  if (value !== undefined) post({ type: "output", output: { kind: "stream", name: "stdout", text: formatValue(value) + "\n" } });
  return checkMs;
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") {
    load();
    scope.ZeroToHero.browserHost.siteUrl = message.siteUrl;
    scope.ZeroToHero.browserHost.engine = message.engine;
    return;
  }
  if (message.type === "stop") {
    scope.ZeroToHero.browserHost.stopRequested = true;
    return;
  }
  current = message.id;
  run(message.source, message.quick, message.check).then(
    (checkMs) => post({ type: "done", ok: true, checkMs: checkMs }),
    (error: unknown) => post({ type: "done", ok: false, error: describeError(error) }),
  );
};

/** The error as the reader sees it: its kind, message, and where in the cell. */
function describeError(error: unknown): string {
  if (error instanceof CompileError) return `Compile error (TypeScript):\n${error.message}`;
  if (error instanceof CellTypeError) return `Type error (TypeScript; the cell did not run):\n${error.message}`;
  if (!(error instanceof Error)) return `Error: ${formatValue(error)}`;
  // Frames of the cell's own code: the AsyncFunction's "<anonymous>" lines, two lines of header before the body's first.
  const frame = /<anonymous>:(\d+):(\d+)/.exec(error.stack ?? "");
  const where = frame ? `\n    at line ${Number(frame[1]) - 3} of the cell (as compiled to JavaScript)` : "";
  return `${error.name}: ${error.message}${where}`;
}
