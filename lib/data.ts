/**
 * The course's two public data sets, fetched once into the project's `data/` folder and verified.
 *
 *   const names = await loadNames();                  // 32,033 first names
 *   const text = await loadText("tinyshakespeare");   // 1,115,394 characters
 *
 * Where a file comes from:
 *   1. the cache folder (`<project>/data`, or $ZTH_DATA_DIR, or `options.dir`), if size and SHA-256 match;
 *   2. otherwise a mirror, if $ZTH_DATA_MIRROR (or `options.mirror`) names one: a folder, a file://
 *      URL of a folder, or an http(s) URL prefix under which `names.txt` and `tinyshakespeare.txt` live;
 *   3. otherwise the public URL.
 * Whatever the source, the bytes are checked (size and SHA-256) before the file is kept, so a
 * broken download can never be mistaken for the data set. A download gives up when its connection is
 * silent too long (`timeoutMs`) or the whole file takes too long (`deadlineMs`), stops as soon as it
 * has more bytes than the file has, and its temporary file is removed on every failure, Ctrl-C included.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { Readable, Transform } from "stream";
import { pipeline } from "stream/promises";
import { fileURLToPath } from "url";
import { removeOnExit } from "./remove-on-exit";
import { DATASETS, type DatasetName, type DatasetSpec } from "./datasets";

export { DATASETS, type DatasetName, type DatasetSpec };

export interface DataOptions {
  /** Cache folder; default $ZTH_DATA_DIR, else `<project>/data`. */
  dir?: string;
  /** Folder, file:// URL or http(s) URL prefix holding the files; default $ZTH_DATA_MIRROR. "" means no mirror. */
  mirror?: string;
  /** Replaces fields of the registry entry (tests use it for a local URL). */
  spec?: Partial<DatasetSpec>;
  /** Gives up on a connection silent for this long; default 30 s. */
  timeoutMs?: number;
  /** Gives up on a file not complete after this long, however steadily it arrives; default 5 min. */
  deadlineMs?: number;
  /** Where the one-line progress messages go. */
  log?: (line: string) => void;
}

const PROJECT_NAME = "nn-zero-to-hero-ts";
const MAX_REDIRECTS = 5;

/** The project's root folder: the first one above this file whose package.json is the project's. */
export function projectRoot(start: string = __dirname): string {
  // Walking up works both from lib/*.ts (run by tsx) and from the compiled lib/dist/*.js.
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === PROJECT_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json named "${PROJECT_NAME}" above ${start}`);
  }
}

/** Returns the absolute path of the verified local copy of a data set, fetching it if needed. */
export async function ensureDataset(name: DatasetName, options: DataOptions = {}): Promise<string> {
  const spec: DatasetSpec = { ...DATASETS[name], ...options.spec };
  const dir = path.resolve(options.dir ?? process.env.ZTH_DATA_DIR ?? path.join(projectRoot(), "data"));
  const dest = path.join(dir, spec.file);
  const log = options.log ?? console.log;
  await fs.promises.mkdir(dir, { recursive: true });

  // 1. The cache (its size first: a huge file there is not read into memory).
  if (fs.existsSync(dest)) {
    const size = (await fs.promises.stat(dest)).size;
    const problem = size === spec.bytes ? mismatch(spec, digest(await fs.promises.readFile(dest))) : wrongSize(spec, size);
    if (!problem) return dest;
    log(`${dest} is not the expected file (${problem}); fetching it again`);
  }

  // 2. A mirror, or 3. the public URL.
  const hint =
    `set ZTH_DATA_MIRROR to a folder or URL holding ${Object.values(DATASETS).map((d) => d.file).join("/")}, ` +
    `or put ${spec.file} into ${dir}${path.sep}`;
  const source = sourceOf(spec, options.mirror ?? process.env.ZTH_DATA_MIRROR, hint);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadlineMs = options.deadlineMs ?? 300_000;

  // Write to a temporary file beside the destination and rename it only once verified:
  // a rename within one folder is atomic, so `dest` is either absent, old, or complete and right.
  const tmp = path.join(dir, `.${spec.file}.${randomBytes(6).toString("hex")}.tmp`);
  const release = removeOnExit(tmp);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  try {
    const input = isUrl(source) ? await httpGet(source, { timeoutMs, maxBytes: spec.bytes, signal: deadline.signal }, hint) : fs.createReadStream(source);
    const counted = { bytes: 0, hash: createHash("sha256") };
    await pipeline(input, capped(spec, source, counted, hint), fs.createWriteStream(tmp), { signal: deadline.signal });
    const problem = mismatch(spec, { bytes: counted.bytes, sha256: counted.hash.digest("hex") });
    if (problem) throw new DataError(`data set "${name}": ${spec.file} from ${source} ${problem}; nothing was kept. Try again, or ${hint}`);
    await fs.promises.rename(tmp, dest);
  } catch (err) {
    if (err instanceof DataError) throw err;
    // Anything else is the network or the file system failing (or the deadline): say so on one line.
    const e = err as NodeJS.ErrnoException;
    const why = deadline.signal.aborted ? `did not finish within ${deadlineMs / 1000} s` : (e.code ?? e.message).replace(/\s+/g, " ");
    const verb = isUrl(source) ? "download" : "copy";
    throw new Error(`could not ${verb} ${spec.file} from ${source} (${why}); ${hint}`);
  } finally {
    clearTimeout(timer);
    await fs.promises.rm(tmp, { force: true }); // no-op once renamed
    release();
  }
  log(`${isUrl(source) ? "downloaded" : "copied"} ${spec.file} (${spec.bytes.toLocaleString("en-US")} bytes) from ${source}`);
  return dest;
}

/** The names data set: one name per line, without empty lines. */
export async function loadNames(options?: DataOptions): Promise<string[]> {
  const text = await loadText("names", options);
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}

/** A whole data set as one string. */
export async function loadText(name: DatasetName, options?: DataOptions): Promise<string> {
  return fs.promises.readFile(await ensureDataset(name, options), "utf8");
}

/** A failure we have already explained in full (wrong bytes, HTTP status). */
class DataError extends Error {}

/** Why bytes of this size and SHA-256 are not the data set described by `spec`, or undefined if they are. */
function mismatch(spec: DatasetSpec, got: { bytes: number; sha256: string }): string | undefined {
  if (got.bytes !== spec.bytes) return wrongSize(spec, got.bytes);
  if (got.sha256 !== spec.sha256) return `is corrupt: expected SHA-256 ${spec.sha256}, got ${got.sha256}`;
  return undefined;
}

function wrongSize(spec: DatasetSpec, bytes: number): string {
  return `has the wrong size: expected ${fmt(spec.bytes)} bytes, got ${fmt(bytes)} bytes`;
}

function digest(data: Buffer): { bytes: number; sha256: string } {
  return { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

/** Passes the bytes on while counting and hashing them; fails as soon as there are more than the file has. */
function capped(spec: DatasetSpec, source: string, counted: { bytes: number; hash: ReturnType<typeof createHash> }, hint: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counted.bytes += chunk.length;
      if (counted.bytes > spec.bytes) {
        done(new DataError(`${spec.file} from ${source} is larger than the expected ${fmt(spec.bytes)} bytes (stopped after ${fmt(counted.bytes)}); nothing was kept. Try again, or ${hint}`));
        return;
      }
      counted.hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** Where to read `spec`'s file: the public URL, a URL under an http(s) mirror, or a path in a mirror folder. */
function sourceOf(spec: DatasetSpec, mirror: string | undefined, hint: string): string {
  if (!mirror) return spec.url;
  if (isUrl(mirror)) return `${mirror.replace(/\/+$/, "")}/${spec.file}`;
  const refuse = (why: string) => new DataError(`ZTH_DATA_MIRROR ${JSON.stringify(mirror)} is not understood: give a folder, a file:// URL or an http(s) URL${why}. Or ${hint}`);
  if (/^file:/i.test(mirror)) {
    try {
      return path.join(fileURLToPath(mirror), spec.file);
    } catch (error) {
      throw refuse(` (${(error as Error).message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)) throw refuse("");
  return path.resolve(mirror, spec.file);
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** GET `url`, following a few redirects; resolves to the body of a 200 response. */
function httpGet(url: string, limits: { timeoutMs: number; maxBytes: number; signal: AbortSignal }, hint: string, redirects = MAX_REDIRECTS): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    let body: Readable | undefined;
    const req = client.get(url, { timeout: limits.timeoutMs, signal: limits.signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      const announced = Number(res.headers["content-length"] ?? NaN);
      if ([301, 302, 307, 308].includes(status) && location) {
        res.resume(); // discard the redirect's body
        if (redirects === 0) reject(new DataError(`GET ${url}: more than ${MAX_REDIRECTS} redirects; ${hint}`));
        else resolve(httpGet(new URL(location, url).href, limits, hint, redirects - 1));
      } else if (status !== 200) {
        res.resume();
        const answer = `HTTP ${status} ${res.statusMessage ?? ""}`.trim();
        reject(new DataError(`GET ${url} answered ${answer}; ${hint}`));
      } else if (announced > limits.maxBytes) {
        res.destroy(); // not a byte of it is read
        reject(new DataError(`GET ${url} announces ${fmt(announced)} bytes, expected ${fmt(limits.maxBytes)}: not the data set; nothing was kept. ${hint}`));
      } else {
        body = res;
        resolve(res);
      }
    });
    // `timeout` only reports a silent socket; ending the request (and a body under way) is up to us.
    req.on("timeout", () => {
      const err = new Error(`timed out after ${limits.timeoutMs} ms`);
      body?.destroy(err);
      req.destroy(err);
    });
    req.on("error", reject);
  });
}
