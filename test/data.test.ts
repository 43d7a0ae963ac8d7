import { before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { DATASETS, ensureDataset, loadNames, loadText, projectRoot } from "../lib/data";
import { courseDataset } from "./course-data";

// The real files, whose size and SHA-256 match the registry: got once as the notebooks get them
// ($ZTH_DATA_MIRROR, the cache or a download); every test then serves them from a source of its own.
const environment = { dir: process.env.ZTH_DATA_DIR, mirror: process.env.ZTH_DATA_MIRROR };
let NAMES: Buffer;
let SHAKESPEARE: Buffer;
before(async () => {
  NAMES = await courseDataset("names", environment);
  SHAKESPEARE = await courseDataset("tinyshakespeare", environment);
});

// The tests choose their sources themselves; the caller's environment must not interfere.
delete process.env.ZTH_DATA_DIR;
delete process.env.ZTH_DATA_MIRROR;

const quiet = () => {};

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "zth-data-"));
  t.after(() => fs.promises.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A folder holding both real files, as a user's copy would. */
async function mirrorFolder(t: TestContext): Promise<string> {
  const dir = await tempDir(t);
  fs.writeFileSync(path.join(dir, "names.txt"), NAMES);
  fs.writeFileSync(path.join(dir, "tinyshakespeare.txt"), SHAKESPEARE);
  return dir;
}

/** A local HTTP server for one test; returns its base URL. */
async function serve(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Serves `body` at /names.txt and 404 elsewhere. */
function serveNames(t: TestContext, body: Buffer): Promise<string> {
  return serve(t, (req, res) => {
    if (req.url !== "/names.txt") return void res.writeHead(404).end("not here");
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
}

/** A URL on which nothing listens. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test("a good file from a URL mirror is kept and its path returned", async (t) => {
  const dir = await tempDir(t);
  const base = await serveNames(t, NAMES);
  const logs: string[] = [];
  const file = await ensureDataset("names", { dir, mirror: base, log: (l) => logs.push(l) });
  assert.equal(file, path.join(dir, "names.txt"));
  assert.ok(path.isAbsolute(file));
  assert.deepEqual(fs.readFileSync(file), NAMES);
  assert.deepEqual(fs.readdirSync(dir), ["names.txt"]); // no temporary file left
  assert.deepEqual(logs, [`downloaded names.txt (228,145 bytes) from ${base}/names.txt`]);
});

test("a verified file in the cache is used without asking any source", async (t) => {
  const dir = await tempDir(t);
  fs.writeFileSync(path.join(dir, "names.txt"), NAMES);
  const logs: string[] = [];
  const file = await ensureDataset("names", { dir, mirror: await closedPortUrl(), log: (l) => logs.push(l) });
  assert.equal(file, path.join(dir, "names.txt"));
  assert.deepEqual(logs, []);
});

test("a corrupt download (right size, wrong bytes) is rejected and not kept", async (t) => {
  const dir = await tempDir(t);
  const corrupt = Buffer.from(NAMES);
  corrupt[1000] ^= 1;
  const base = await serveNames(t, corrupt);
  await assert.rejects(ensureDataset("names", { dir, mirror: base, log: quiet }), (err: Error) => {
    assert.match(err.message, /"names"/);
    assert.ok(err.message.includes(`${base}/names.txt`), err.message);
    assert.ok(err.message.includes(DATASETS.names.sha256), err.message);
    assert.ok(err.message.includes(sha256(corrupt)), err.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a truncated download is rejected with a size error and not kept", async (t) => {
  const dir = await tempDir(t);
  const base = await serveNames(t, NAMES.subarray(0, 1000));
  await assert.rejects(ensureDataset("names", { dir, mirror: base, log: quiet }), /expected 228,145 bytes, got 1,000 bytes/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("HTTP 404 is reported with the URL and the status", async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, (_req, res) => void res.writeHead(404).end());
  await assert.rejects(ensureDataset("names", { dir, mirror: base, log: quiet }), (err: Error) => {
    assert.ok(err.message.includes(`GET ${base}/names.txt answered HTTP 404`), err.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("redirects are followed, but not forever", async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, (req, res) => {
    if (req.url === "/a") return void res.writeHead(301, { location: "/b" }).end();
    if (req.url === "/b") return void res.writeHead(307, { location: `${base}/names.txt` }).end();
    if (req.url === "/loop") return void res.writeHead(302, { location: "/loop" }).end();
    res.writeHead(200).end(NAMES);
  });
  // No mirror: the public URL, replaced by a local one.
  const file = await ensureDataset("names", { dir, mirror: "", spec: { url: `${base}/a` }, log: quiet });
  assert.deepEqual(fs.readFileSync(file), NAMES);

  const other = await tempDir(t);
  await assert.rejects(ensureDataset("names", { dir: other, mirror: "", spec: { url: `${base}/loop` }, log: quiet }), /redirects/);
  assert.deepEqual(fs.readdirSync(other), []);
});

test("a mirror folder is copied from", async (t) => {
  const dir = await tempDir(t);
  const mirror = await tempDir(t);
  fs.writeFileSync(path.join(mirror, "names.txt"), NAMES);
  const logs: string[] = [];
  const file = await ensureDataset("names", { dir, mirror, log: (l) => logs.push(l) });
  assert.deepEqual(fs.readFileSync(file), NAMES);
  assert.deepEqual(fs.readdirSync(dir), ["names.txt"]);
  assert.match(logs.join("\n"), /^copied names.txt \(228,145 bytes\)/);
});

test("a mirror folder without the file gives a clear error", async (t) => {
  const dir = await tempDir(t);
  const mirror = await tempDir(t);
  await assert.rejects(ensureDataset("names", { dir, mirror, log: quiet }), /could not copy names.txt from .*ENOENT.*ZTH_DATA_MIRROR/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a corrupt file in the cache is reported and replaced from the mirror", async (t) => {
  const dir = await tempDir(t);
  fs.writeFileSync(path.join(dir, "names.txt"), "not the names\n");
  const logs: string[] = [];
  const file = await ensureDataset("names", { dir, mirror: await mirrorFolder(t), log: (l) => logs.push(l) });
  assert.deepEqual(fs.readFileSync(file), NAMES);
  assert.deepEqual(fs.readdirSync(dir), ["names.txt"]);
  assert.match(logs[0], /names.txt is not the expected file \(has the wrong size.*\); fetching it again/);
});

test("an unreachable source gives one line that mentions ZTH_DATA_MIRROR", async (t) => {
  const dir = await tempDir(t);
  const closed = await closedPortUrl();
  const check = (err: Error) => {
    assert.ok(!err.message.includes("\n"), err.message);
    assert.match(err.message, /^could not download names.txt from .*ECONNREFUSED.*ZTH_DATA_MIRROR/);
    assert.ok(err.message.includes(dir), err.message); // says where to put the file
    return true;
  };
  // An unreachable mirror (the public URL is local too, so no real network is touched either way).
  await assert.rejects(ensureDataset("names", { dir, mirror: closed, spec: { url: `${closed}/names.txt` }, log: quiet }), check);
  // No mirror and an unreachable public URL.
  await assert.rejects(ensureDataset("names", { dir, mirror: "", spec: { url: `${closed}/names.txt` }, log: quiet }), check);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a silent server times out", async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, () => {}); // never answers
  await assert.rejects(
    ensureDataset("names", { dir, mirror: base, timeoutMs: 200, log: quiet }),
    /could not download names.txt from .*timed out after 200 ms.*ZTH_DATA_MIRROR/,
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a body that stalls half-way times out and leaves nothing", async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-length": NAMES.length });
    res.write(NAMES.subarray(0, 1000)); // ...and nothing more
  });
  await assert.rejects(ensureDataset("names", { dir, mirror: base, timeoutMs: 200, log: quiet }), /timed out after 200 ms.*ZTH_DATA_MIRROR/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("loadNames gives the 32,033 names", async (t) => {
  const dir = await tempDir(t);
  const names = await loadNames({ dir, mirror: await mirrorFolder(t), log: quiet });
  assert.equal(names.length, 32_033);
  assert.equal(Math.min(...names.map((n) => n.length)), 2);
  assert.equal(Math.max(...names.map((n) => n.length)), 15);
  assert.equal(names[0], "emma");
});

test("ZTH_DATA_DIR and ZTH_DATA_MIRROR are honoured", async (t) => {
  const dir = await tempDir(t);
  process.env.ZTH_DATA_DIR = dir;
  process.env.ZTH_DATA_MIRROR = await mirrorFolder(t);
  t.after(() => {
    delete process.env.ZTH_DATA_DIR;
    delete process.env.ZTH_DATA_MIRROR;
  });
  const text = await loadText("tinyshakespeare", { log: quiet });
  assert.equal(text.length, 1_115_394);
  assert.ok(text.startsWith("First Citizen:"));
  assert.deepEqual(fs.readdirSync(dir), ["tinyshakespeare.txt"]);
});

test("the project root is found from lib/", () => {
  assert.equal(projectRoot(), path.resolve(__dirname, ".."));
  assert.equal(JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")).name, "nn-zero-to-hero-ts");
});

test("a server that trickles (one byte every 20 ms) is given up at the deadline for one file, leaving nothing", { timeout: 20_000 }, async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-length": NAMES.length });
    let sent = 0;
    const timer = setInterval(() => res.write(NAMES.subarray(sent, ++sent)), 20); // never silent for long
    res.on("close", () => clearInterval(timer));
  });
  const started = Date.now();
  await assert.rejects(
    ensureDataset("names", { dir, mirror: base, timeoutMs: 1000, deadlineMs: 500, log: quiet }),
    /could not download names.txt from .*did not finish within 0.5 s.*ZTH_DATA_MIRROR/,
  );
  assert.ok(Date.now() - started < 10_000, "given up at the deadline, not after the whole file");
  assert.deepEqual(fs.readdirSync(dir), []);
});

/** A server that sends 50 MB of junk at /names.txt as fast as the client takes it; counts what it sent. */
async function flood(t: TestContext, headers: http.OutgoingHttpHeaders): Promise<{ base: string; sent: () => number }> {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, "x");
  const base = await serve(t, async (_req, res) => {
    res.writeHead(200, headers);
    let open = true;
    res.on("close", () => (open = false));
    while (open && sent < 50 * 2 ** 20) {
      sent += chunk.length;
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
    }
    res.end();
  });
  return { base, sent: () => sent };
}

test("a flood (50 MB for a 228,145-byte file) is cut off while streaming, and nothing is kept", { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const { base, sent } = await flood(t, {}); // no content-length: only counting the bytes can stop it
  await assert.rejects(ensureDataset("names", { dir, mirror: base, log: quiet }), /names.txt from .* is larger than the expected 228,145 bytes.*nothing was kept/);
  assert.ok(sent() < 20 * 2 ** 20, `the download stopped early: the server got ${(sent() / 2 ** 20).toFixed(1)} MB out`);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("an answer whose Content-Length is larger than the file is refused before its body", async (t) => {
  const dir = await tempDir(t);
  const { base } = await flood(t, { "content-length": 50 * 2 ** 20 });
  await assert.rejects(ensureDataset("names", { dir, mirror: base, log: quiet }), /announces 52,428,800 bytes, expected 228,145/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a file:// mirror is a folder; another scheme is refused with a clear message", async (t) => {
  const dir = await tempDir(t);
  const mirror = await mirrorFolder(t);
  const file = await ensureDataset("names", { dir, mirror: pathToFileURL(mirror).href, log: quiet });
  assert.deepEqual(fs.readFileSync(file), NAMES);
  const other = await tempDir(t);
  await assert.rejects(
    ensureDataset("names", { dir: other, mirror: "ftp://example.invalid/data", log: quiet }),
    /ZTH_DATA_MIRROR "ftp:\/\/example.invalid\/data" is not understood: give a folder, a file:\/\/ URL or an http\(s\) URL/,
  );
  assert.deepEqual(fs.readdirSync(other), []);
});

test("a download stopped with Ctrl-C (a real SIGINT to a child process) leaves no temporary file", { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const base = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-length": NAMES.length });
    res.write(NAMES.subarray(0, 1000)); // then stalls, so the download is under way when the signal comes
  });
  const script = path.join(await tempDir(t), "download.ts");
  fs.writeFileSync(script, `import { ensureDataset } from ${JSON.stringify(path.resolve(__dirname, "../lib/data"))};
ensureDataset("names", { dir: ${JSON.stringify(dir)}, mirror: ${JSON.stringify(base)}, timeoutMs: 60_000 });
`);
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: projectRoot(), stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  // Wait until the temporary file exists and has the first bytes.
  const deadline = Date.now() + 30_000;
  while (!fs.readdirSync(dir).some((f) => f.endsWith(".tmp") && fs.statSync(path.join(dir, f)).size > 0)) {
    assert.ok(Date.now() < deadline, "the child never started writing");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGINT");
  assert.equal(await exited, "SIGINT", "Ctrl-C still ends the process");
  assert.deepEqual(fs.readdirSync(dir), [], "no temporary file left behind");
});
