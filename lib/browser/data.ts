// Browser build of lib/data.ts: the data sets come from the site's own copies (data/ beside the
// pages), checked against the same size and SHA-256.
import { DATASETS, type DatasetName, type DatasetSpec } from "../datasets";
import { host } from "./host";

export { DATASETS, type DatasetName, type DatasetSpec };

/** The root of live mode's files (memory-files.ts), where a notebook's project folder would be. */
export function projectRoot(): string {
  return "/";
}

const cache = new Map<DatasetName, Promise<string>>();

export async function loadText(name: DatasetName): Promise<string> {
  let text = cache.get(name);
  if (!text) cache.set(name, (text = fetchChecked(name)));
  return text;
}

export async function loadNames(): Promise<string[]> {
  return (await loadText("names")).split(/\r?\n/).filter((line) => line.length > 0);
}

async function fetchChecked(name: DatasetName): Promise<string> {
  const spec: DatasetSpec = DATASETS[name];
  const url = new URL(`data/${spec.file}`, host.siteUrl).href;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${spec.file} from the site (${url}: HTTP ${response.status}); rebuild the site with the data sets in place.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const sha256 = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  if (bytes.length !== spec.bytes || sha256 !== spec.sha256) {
    throw new Error(`${spec.file} on the site is not the data set (expected ${spec.bytes} bytes with SHA-256 ${spec.sha256}, got ${bytes.length} bytes with ${sha256}); rebuild the site.`);
  }
  return new TextDecoder().decode(bytes);
}
