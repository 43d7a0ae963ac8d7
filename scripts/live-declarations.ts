// The declaration files live mode's type checker needs (scripts/live/type-check.ts), recorded from a
// program over a cell that imports every module a page may import, with tslab's options: each file
// the compiler reads, each path it finds, each symbolic link it follows; paths from the project root.
import * as path from "node:path";
import * as ts from "typescript";
import { type DeclarationFiles, tslabOptions } from "./live/type-check";
import { projectRoot } from "./cli";

const stubSource = `import * as zth from "zero-to-hero";\nimport * as tf from "@tensorflow/tfjs";\nimport * as dfd from "danfojs";\n`;

export function collectDeclarations(root: string = projectRoot): DeclarationFiles {
  const stub = path.join(root, "live-declarations-stub.ts");
  const within = (file: string) => {
    const relative = path.relative(root, path.resolve(root, file));
    if (relative.startsWith("..")) throw new Error(`live mode's type checker needs ${file}, outside the project: install the packages in the project (npm ci).`);
    return `/${relative.split(path.sep).join("/")}`;
  };
  const options = tslabOptions(ts);
  const types = ts.getAutomaticTypeDirectiveNames(options, ts.sys);
  const files: Record<string, string> = {};
  const exists = new Set<string>();
  const realpaths: Record<string, string> = {};
  const base = ts.createCompilerHost(options);
  const host: ts.CompilerHost = {
    ...base,
    getCurrentDirectory: () => root,
    getSourceFile: (file, version) => {
      if (file === stub) return ts.createSourceFile(file, stubSource, version);
      const text = base.readFile(file);
      if (text === undefined) return undefined;
      files[within(file)] = text;
      return ts.createSourceFile(file, text, version);
    },
    fileExists: (file) => {
      if (file === stub) return true;
      const found = base.fileExists(file);
      if (found) exists.add(within(file));
      return found;
    },
    readFile: (file) => {
      const text = base.readFile(file);
      if (text !== undefined) files[within(file)] = text;
      return text;
    },
    realpath: (file) => {
      const real = base.realpath ? base.realpath(file) : file;
      if (real !== file) realpaths[within(file)] = within(real);
      return real;
    },
  };
  const program = ts.createProgram([stub], { ...options, typeRoots: [path.join(root, "node_modules", "@types")] }, host);
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(`live mode's type checker: the declarations do not check (${ts.flattenDiagnosticMessageText(errors[0].messageText, " ")}): run npm run build, then build the site again.`);
  for (const file of Object.keys(files)) exists.delete(file);
  return { files: files, exists: [...exists], realpaths: realpaths, types: types };
}
