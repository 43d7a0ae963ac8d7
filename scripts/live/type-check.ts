// Type checking of notebook cells as the tslab kernel does it: each cell is checked against the
// declarations of the cells before it (a later declaration of a name replaces the earlier one), with
// tslab's compiler options, and a cell with a type error is refused with its line and column.
// It runs over an in-memory copy of the declaration files (declarations.json, written when the site
// is built), reusing the previous program and the parsed files, so later cells check fast.
import type * as TS from "typescript";
import { bindingNames } from "./compile-cell";

/** The declaration files a cell can need, as recorded when the site was built (paths from "/"). */
export interface DeclarationFiles {
  /** Each file the compiler read, and its text. */
  files: Record<string, string>;
  /** Further paths the compiler found to exist (without reading them). */
  exists: string[];
  /** Symbolic links the compiler followed (the library's package is one). */
  realpaths: Record<string, string>;
  /** The packages under node_modules/@types that tslab includes by itself. */
  types: string[];
}

/** tslab 1.0.22's options for cells (its converter): not strict, ES2022, Node10 resolution. */
export function tslabOptions(ts: typeof TS): TS.CompilerOptions {
  return {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    experimentalDecorators: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
  };
}

/** One top-level declaration of a cell kept for later cells: the names it declares and its text. */
interface Unit {
  names: string[];
  text: string;
}

const cellFile = "/cell.ts";

export class CellChecker {
  private units: Unit[] = [];
  private program: TS.Program | undefined;
  private readonly parsed = new Map<string, TS.SourceFile>();
  private readonly options: TS.CompilerOptions;
  private readonly exists: Set<string>;

  constructor(private readonly ts: typeof TS, private readonly declarations: DeclarationFiles) {
    this.options = { ...tslabOptions(ts), types: declarations.types, typeRoots: ["/node_modules/@types"] };
    this.exists = new Set([...Object.keys(declarations.files), ...declarations.exists]);
  }

  /**
   * The cell's type errors ("line L, column C: message", the cell's own lines), none if it checks.
   * A cell that checks is remembered: its declarations are visible to the cells checked after it.
   */
  check(source: string): string[] {
    const ts = this.ts;
    const cell = ts.createSourceFile(cellFile, source, ts.ScriptTarget.ES2022, true);
    const own = unitsOf(ts, cell);
    const declared = new Set(own.flatMap((unit) => unit.names));
    const kept = replaceNames(this.units, declared);
    const prefix = kept.map((unit) => unit.text).join("\n");
    const text = `${prefix}\nexport {};\n${source}`;
    const offset = text.length - source.length;
    const firstLine = prefix.split("\n").length + 1;
    const errors = this.diagnostics(text).filter((d) => d.start !== undefined && d.start >= offset);
    if (errors.length > 0) {
      return errors.map((d) => {
        const where = (d.file as TS.SourceFile).getLineAndCharacterOfPosition(d.start as number);
        return `line ${where.line - firstLine + 1}, column ${where.character + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    }
    this.units = [...kept, ...own];
    return [];
  }

  private diagnostics(text: string): readonly TS.Diagnostic[] {
    const ts = this.ts;
    const files = this.declarations.files;
    const cell = ts.createSourceFile(cellFile, text, ts.ScriptTarget.ES2022, true);
    const host: TS.CompilerHost = {
      getSourceFile: (file, languageVersion) => {
        if (file === cellFile) return cell;
        let parsed = this.parsed.get(file);
        if (!parsed && file in files) {
          parsed = ts.createSourceFile(file, files[file], languageVersion);
          this.parsed.set(file, parsed);
        }
        return parsed;
      },
      getDefaultLibFileName: (options) => `/node_modules/typescript/lib/${ts.getDefaultLibFileName(options)}`,
      getDefaultLibLocation: () => "/node_modules/typescript/lib",
      writeFile: () => undefined,
      getCurrentDirectory: () => "/",
      getCanonicalFileName: (file) => file,
      useCaseSensitiveFileNames: () => true,
      getNewLine: () => "\n",
      fileExists: (file) => file === cellFile || this.exists.has(file),
      readFile: (file) => (file === cellFile ? text : files[file]),
      realpath: (file) => this.declarations.realpaths[file] ?? file,
      directoryExists: () => true,
      getDirectories: () => [],
    };
    this.program = ts.createProgram([cellFile], this.options, host, this.program);
    const file = this.program.getSourceFile(cellFile) as TS.SourceFile;
    return [...this.program.getSyntacticDiagnostics(file), ...this.program.getSemanticDiagnostics(file)];
  }
}

/** Earlier units without the names a new cell declares again (a destructuring's other names stay, typed any). */
function replaceNames(units: Unit[], declared: Set<string>): Unit[] {
  return units.flatMap((unit) => {
    if (!unit.names.some((name) => declared.has(name))) return [unit];
    return unit.names.filter((name) => !declared.has(name)).map((name) => ({ names: [name], text: `declare let ${name}: any;` }));
  });
}

/** A cell's top-level declarations, one unit per imported name or variable; other statements declare nothing. */
function unitsOf(ts: typeof TS, file: TS.SourceFile): Unit[] {
  const units: Unit[] = [];
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const from = statement.moduleSpecifier.getText();
      const clause = statement.importClause;
      const type = clause?.isTypeOnly ? "type " : "";
      if (clause?.name) units.push({ names: [clause.name.text], text: `import ${type}${clause.name.text} from ${from};` });
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) units.push({ names: [bindings.name.text], text: `import ${type}* as ${bindings.name.text} from ${from};` });
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          const name = element.name.text;
          const imported = element.propertyName ? `${element.propertyName.getText()} as ${name}` : name;
          units.push({ names: [name], text: `import ${type}{ ${element.isTypeOnly ? "type " : ""}${imported} } from ${from};` });
        }
      }
    } else if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList;
      const keyword = list.flags & ts.NodeFlags.Const ? "const" : list.flags & ts.NodeFlags.Let ? "let" : "var";
      const declare = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword) ? "declare " : "";
      for (const declaration of list.declarations) units.push({ names: bindingNames(ts, declaration.name), text: `${declare}${keyword} ${declaration.getText()};` });
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name
    ) {
      units.push({ names: [statement.name.text], text: statement.getText() });
    }
  }
  return units;
}
