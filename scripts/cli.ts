// What every script's command line shares.
import * as fs from "node:fs";
import * as path from "node:path";

export const projectRoot = path.resolve(__dirname, "..");
export const notebooksDir = path.join(projectRoot, "notebooks");

/** Runs `main` when `caller` is the file node started (not imported), exiting with its code, or 2 on an error. */
export function runMain(caller: NodeModule, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== caller) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}

/**
 * The options of `run-notebooks` and `course`: --quick and notebook files. With --help, prints `usage`
 * and returns undefined (the command then exits 0); an unknown option is an error that shows the usage line.
 */
export function notebookArguments(argv: string[], usage: string): { quick: boolean; notebooks: string[] } | undefined {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    return undefined;
  }
  const unknown = argv.filter((a) => a.startsWith("-") && a !== "--quick");
  if (unknown.length > 0) throw new Error(`Unknown option(s): ${unknown.join(" ")}. ${usage.split("\n")[0]} (--help for more)`);
  return { quick: argv.includes("--quick"), notebooks: argv.filter((a) => !a.startsWith("-")) };
}

/** The files in `dir` whose names end in `extension`, sorted, as full paths; none when `dir` is missing. */
export function filesIn(dir: string, extension: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(extension)).sort().map((f) => path.join(dir, f));
}

/**
 * f over the items, two at a time (the browser's work on this project's pages keeps about two cores
 * busy), the results in the items' order.
 */
export async function twoAtATime<T, R>(items: T[], f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await f(items[i], i);
  };
  await Promise.all([lane(), lane()]);
  return results;
}
