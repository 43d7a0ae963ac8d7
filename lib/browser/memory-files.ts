// Live mode's files: a folder tree in the worker's memory, for as long as the page stays open, with the
// few calls of Node's fs, path and os that notebook cells make (notebook 05 writes, copies, damages
// and removes a checkpoint). The browser build of lib/checkpoint.ts saves into it too. Nothing is
// written to the reader's disk.
const files = new Map<string, Uint8Array>();
const folders = new Set<string>(["/"]);
let counter = 0;

const notFound = (file: string): Error => new Error(`ENOENT: no such file or directory, '${file}' (live mode keeps files in the page's memory until it is closed)`);

export const path = {
  sep: "/",
  /** POSIX join: "." and ".." resolved, one "/" between parts. */
  join(...parts: string[]): string {
    const out: string[] = [];
    for (const part of parts.join("/").split("/")) {
      if (part === "..") out.pop();
      else if (part !== "" && part !== ".") out.push(part);
    }
    return (parts[0]?.startsWith("/") ? "/" : "") + out.join("/");
  },
  resolve: (...parts: string[]): string => path.join("/", ...parts),
  dirname: (file: string): string => path.resolve(file).replace(/\/[^/]*$/, "") || "/",
  basename: (file: string): string => path.resolve(file).split("/").pop() ?? "",
};

export const os = { tmpdir: () => "/temporary", platform: () => "browser" };

function under(folder: string): string[] {
  const prefix = folder === "/" ? "/" : `${folder}/`;
  const names = [...files.keys(), ...folders].filter((name) => name.startsWith(prefix) && name !== folder);
  return [...new Set(names.map((name) => name.slice(prefix.length).split("/")[0]))].sort();
}

export const fs = {
  existsSync: (file: string): boolean => files.has(path.resolve(file)) || folders.has(path.resolve(file)),
  mkdirSync(folder: string): void {
    for (let dir = path.resolve(folder); dir !== "/"; dir = path.dirname(dir)) folders.add(dir);
  },
  mkdtempSync(prefix: string): string {
    const folder = `${path.resolve(prefix)}${(++counter).toString(36).padStart(6, "0")}`;
    fs.mkdirSync(folder);
    return folder;
  },
  readdirSync(folder: string): string[] {
    if (!folders.has(path.resolve(folder))) throw notFound(folder);
    return under(path.resolve(folder));
  },
  readFileSync(file: string, encoding?: string): Uint8Array | string {
    const bytes = files.get(path.resolve(file));
    if (!bytes) throw notFound(file);
    return encoding ? new TextDecoder().decode(bytes) : bytes.slice();
  },
  writeFileSync(file: string, data: Uint8Array | string): void {
    if (!folders.has(path.dirname(file))) throw notFound(path.dirname(file));
    files.set(path.resolve(file), typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
  },
  cpSync(from: string, to: string): void {
    const source = path.resolve(from);
    if (files.has(source)) return fs.writeFileSync(to, files.get(source)!);
    fs.mkdirSync(to);
    for (const name of fs.readdirSync(source)) fs.cpSync(path.join(source, name), path.join(to, name));
  },
  rmSync(target: string, options: { force?: boolean } = {}): void {
    const where = path.resolve(target);
    if (!fs.existsSync(where) && !options.force) throw notFound(target);
    for (const name of [...files.keys()]) if (name === where || name.startsWith(`${where}/`)) files.delete(name);
    for (const name of [...folders]) if (name === where || name.startsWith(`${where}/`)) folders.delete(name);
  },
};
