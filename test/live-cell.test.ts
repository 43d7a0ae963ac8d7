// Live mode's cell compiler (scripts/live/compile-cell.ts), run here in Node the way the browser's
// worker runs it: declarations reach later cells, top-level await, imports from the modules given,
// the last expression's value, an async function used before its declaration, compile errors with
// their line.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as ts from "typescript";
import { CompileError, compileCell } from "../scripts/live/compile-cell";

const AsyncFunction = (async () => undefined).constructor as new (body: string) => () => Promise<unknown>;
const run = (source: string) => new AsyncFunction(compileCell(ts, source).body)();
const global = globalThis as Record<string, unknown>;

test("a cell's declarations, imports and functions reach later cells; the last expression is the cell's value", async () => {
  global.__zthModules = { "zero-to-hero": { double: (x: number) => 2 * x } };
  try {
    assert.equal(await run(`import { double } from "zero-to-hero";\nconst a: number = await Promise.resolve(20);\nlet [b, { c }] = [1, { c: 2 }];\nclass Box { constructor(readonly v: number) {} }\nearly();\nasync function early() { return a; }`), undefined);
    assert.equal(await run(`double(a) + b + c + new Box(3).v + (await early())`), 40 + 1 + 2 + 3 + 20);
  } finally {
    for (const name of ["__zthModules", "double", "a", "b", "c", "Box", "early"]) delete global[name];
  }
});

test("what a cell defined before it fails stays defined, as in the kernel", async () => {
  await assert.rejects(run(`const kept = 5;\nthrow new Error("boom");`), /boom/);
  assert.equal(global.kept, 5);
  delete global.kept;
});

test("a syntax error is a CompileError naming its line and column", () => {
  assert.throws(() => compileCell(ts, `const x = 1;\nconst y: number = (1 + ;`), (error: unknown) => error instanceof CompileError && /^line 2, column \d+: Expression expected/.test(error.message));
});
