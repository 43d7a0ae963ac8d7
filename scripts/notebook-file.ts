// Reading and writing .ipynb files the way Jupyter does, so a file written here and the same file
// saved from Jupyter differ only where their content does.
import * as fs from "node:fs";

/** The parts of nbformat 4 that the scripts look at; everything else is carried through untouched. */
export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error" | string;
  name?: string; // stream: "stdout" | "stderr"
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
  [key: string]: unknown;
}

export interface Cell {
  cell_type: "code" | "markdown" | "raw" | string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string; display_name?: string; language?: string }; [key: string]: unknown };
  nbformat: number;
  nbformat_minor: number;
}

/** What the runner (run-notebooks.ts) stores in an executed notebook's metadata, for the site's index page. */
export interface RunInfo {
  mode: "quick" | "full";
  ok: boolean;
  seconds: number;
  /** The last line the notebook printed that starts with "Result:", without that word. */
  result?: string;
  finished: string;
}

export const runInfoKey = "zero_to_hero_run";

/** nbformat stores multi-line strings either whole or as a list of lines. */
export function joinText(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

/** The notebook in `file`; an error that names the file when it is not valid JSON or has no list of cells. */
export function readNotebook(file: string): Notebook {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    const why = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : `cannot be read (${(error as Error).message})`;
    throw new Error(`${file} ${why}: not a notebook. Restore it (e.g. git checkout -- ${file}) or leave it out.`);
  }
  if (parsed === null || typeof parsed !== "object" || !Array.isArray((parsed as { cells?: unknown }).cells)) {
    throw new Error(`${file} is not a notebook: it has no list of "cells". Restore it (e.g. git checkout -- ${file}) or leave it out.`);
  }
  return parsed as Notebook;
}

/** Jupyter's own format: keys sorted, 1-space indent, non-ASCII kept as is, trailing newline. */
export function formatNotebook(notebook: Notebook): string {
  return JSON.stringify(sortKeys(notebook), null, 1) + "\n";
}

export function writeNotebook(file: string, notebook: Notebook): void {
  fs.writeFileSync(file, formatNotebook(notebook));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}
