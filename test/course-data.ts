// The course's real data sets for the tests, got the way the notebooks get them (lib/data.ts): from
// the folder or URL in $ZTH_DATA_MIRROR, else the data/ cache, else downloaded. Never from a fixed
// path: offline without ZTH_DATA_MIRROR a test fails with the library's message saying to set it.
// (Failing, not skipping: a skipped test would let `npm test` pass without checking the lectures' numbers.)
import * as fs from "node:fs";
import { type DataOptions, type DatasetName, ensureDataset } from "../lib/data";

const quiet = () => {};

/** The verified file's bytes. */
export async function courseDataset(name: DatasetName, options: DataOptions = {}): Promise<Buffer> {
  return fs.promises.readFile(await ensureDataset(name, { log: quiet, ...options }));
}

/** names.txt as a list of names, as loadNames gives it. */
export async function courseNames(): Promise<string[]> {
  return (await courseDataset("names")).toString("utf8").split(/\r?\n/).filter((line) => line.length > 0);
}
