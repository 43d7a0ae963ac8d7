// A new user's machine: the tests that read the course's data get it only from the folder named by
// ZTH_DATA_MIRROR (README, "The two commands"), never from a fixed path of the development machines.
// The data-reading test files run in a child process with the data in a fresh temporary folder, an
// empty cache, and a guard that fails any read of names.txt or tinyshakespeare.txt outside that folder.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { courseDataset } from "./course-data";

const dataReadingTests = ["bigram", "data", "python-random", "torch-random", "text", "backprop"].map((name) => path.join(__dirname, `${name}.test.ts`));

// Preloaded into every test process: a data file read from anywhere but the temporary folder throws.
const guard = `"use strict";
const fs = require("node:fs");
const path = require("node:path");
const allowed = process.env.ZTH_TEST_DATA_ROOT + path.sep;
const check = (file) => {
  const name = typeof file === "string" || file instanceof URL || Buffer.isBuffer(file) ? path.resolve(String(file instanceof URL ? file.pathname : file)) : "";
  if (/(^|[\\\\/])(names|tinyshakespeare)\\.txt$/.test(name) && !name.startsWith(allowed)) {
    throw new Error("read " + name + ": outside the folders given by ZTH_DATA_MIRROR and ZTH_DATA_DIR");
  }
};
const wrap = (owner, key) => {
  const original = owner[key];
  owner[key] = function (file, ...rest) { check(file); return original.call(this, file, ...rest); };
};
for (const key of ["readFileSync", "createReadStream", "openSync", "readFile", "open", "copyFileSync", "copyFile"]) wrap(fs, key);
for (const key of ["readFile", "open", "copyFile"]) wrap(fs.promises, key);
require("node:module").syncBuiltinESMExports();
`;

test("the data-reading tests pass with the data given only through ZTH_DATA_MIRROR, in a temporary folder", { timeout: 5 * 60_000 }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zth-new-user-"));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const mirror = path.join(root, "my datasets");
  const cache = path.join(root, "cache");
  fs.mkdirSync(mirror);
  for (const name of ["names", "tinyshakespeare"] as const) {
    fs.writeFileSync(path.join(mirror, `${name}.txt`), await courseDataset(name));
  }
  const guardFile = path.join(root, "guard.cjs");
  fs.writeFileSync(guardFile, guard);

  const env: NodeJS.ProcessEnv = { ...process.env, ZTH_DATA_MIRROR: mirror, ZTH_DATA_DIR: cache, ZTH_TEST_DATA_ROOT: root, TMPDIR: root };
  delete env.NODE_TEST_CONTEXT; // set for the processes of a test run: the child must run its own
  const child = spawn(process.execPath, ["--require", guardFile, "--import", "tsx", "--test", "--test-reporter=tap", ...dataReadingTests], {
    cwd: path.resolve(__dirname, ".."),
    env: env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

  const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(output)?.[1]);
  const failures = output.split("\n").filter((line) => /^\s*not ok|outside the folders given|error:/.test(line)).slice(0, 20).join("\n");
  assert.equal(code, 0, `the data-reading tests failed:\n${failures}`);
  assert.equal(count("fail"), 0);
  assert.equal(count("skipped"), 0, "no test skipped for want of data");
  assert.ok(count("pass") >= 30, `${count("pass")} tests passed`);
  // The data went where ZTH_DATA_DIR says, copied from the mirror.
  assert.deepEqual(fs.readdirSync(cache).sort(), ["names.txt", "tinyshakespeare.txt"]);
});
