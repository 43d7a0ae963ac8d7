// Serves the built site (build/site/) on http://127.0.0.1:8080, so its live mode can run: browsers
// refuse Web Workers and WebAssembly files to a page opened from disk.
//
//   npm run serve [-- --port 8080]
import * as fs from "node:fs";
import { siteDir } from "./build-site";
import { serveDirectory } from "./check-site";
import { runMain } from "./cli";

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf("--port");
  const port = at >= 0 ? Number(argv[at + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0) throw new Error(`--port ${argv[at + 1]} is not a port number.`);
  if (!fs.existsSync(siteDir)) {
    console.log("No site yet: run `npm run course` (or `npm run site` after it) first.");
    return 1;
  }
  const server = await serveDirectory(siteDir, port);
  console.log(`Serving the site at ${server.url}/ (Ctrl-C ends it).`);
  await new Promise(() => undefined);
  return 0;
}

runMain(module, main);
