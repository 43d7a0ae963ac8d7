// A notebook cell as the kernel runs it, compiled for the browser: TypeScript to JavaScript with the
// TypeScript package's transpileModule (syntax only, no type check), imports turned into reads of the
// worker's modules, top-level declarations kept for later cells, the last expression's value returned.
import type * as TS from "typescript";

export interface CompiledCell {
  /** The body of an async function: top-level await works inside it. */
  body: string;
  /** Module names the cell imports. */
  modules: string[];
}

export class CompileError extends Error {}

export function compileCell(ts: typeof TS, source: string): CompiledCell {
  const output = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    reportDiagnostics: true,
    fileName: "cell.ts",
  });
  const errors = output.diagnostics ?? [];
  if (errors.length > 0) {
    throw new CompileError(errors.map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${where ? `line ${where.line + 1}, column ${where.character + 1}: ` : ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    }).join("\n"));
  }
  const js = output.outputText.replace(/^export \{\};\s*$/m, "");
  const file = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const names: string[] = [];
  const modules: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  const functions: string[] = [];
  const statements = file.statements;
  for (const statement of statements) {
    if (ts.isImportDeclaration(statement)) {
      const module = (statement.moduleSpecifier as TS.StringLiteral).text;
      modules.push(module);
      const source = `__zthModules[${JSON.stringify(module)}]`;
      const clause = statement.importClause;
      const parts: string[] = [];
      if (clause?.name) parts.push(`var ${clause.name.text} = ${source}.default ?? ${source};`);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) parts.push(`var ${bindings.name.text} = ${source};`);
      if (bindings && ts.isNamedImports(bindings)) {
        const list = bindings.elements.map((e) => (e.propertyName ? `${e.propertyName.text}: ${e.name.text}` : e.name.text));
        parts.push(`var { ${list.join(", ")} } = ${source};`);
      }
      edits.push({ start: statement.getStart(), end: statement.getEnd(), text: parts.join(" ") || `${source};` });
      names.push(...importedNames(ts, statement));
    } else if (ts.isVariableStatement(statement)) {
      // `var`: the body runs inside a try block, and a const or let there would not reach its finally.
      for (const declaration of statement.declarationList.declarations) names.push(...bindingNames(ts, declaration.name));
      const text = statement.getText();
      edits.push({ start: statement.getStart(), end: statement.getEnd(), text: text.replace(/^(const|let)\b/, "var") });
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      names.push(statement.name.text);
      edits.push({ start: statement.getStart(), end: statement.getEnd(), text: `var ${statement.name.text} = ${statement.getText()};` });
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      // Moved out of the try block to the function's scope, where it is hoisted as at a cell's top
      // level (inside a block, an async function would stay local to the block).
      names.push(statement.name.text);
      functions.push(statement.getText());
      edits.push({ start: statement.getStart(), end: statement.getEnd(), text: "\n".repeat(statement.getText().split("\n").length - 1) });
    }
  }
  const last = statements[statements.length - 1];
  if (last && ts.isExpressionStatement(last)) {
    edits.push({ start: last.getStart(), end: last.getEnd(), text: `return (${last.expression.getText()});` });
  }
  let body = js;
  for (const edit of edits.sort((a, b) => b.start - a.start)) body = body.slice(0, edit.start) + edit.text + body.slice(edit.end);
  // Kept for later cells even when the cell fails part way (what ran so far is defined, as in the kernel).
  const keep = names.map((name) => `try { globalThis[${JSON.stringify(name)}] = ${name}; } catch {}`).join("\n");
  // The functions go after the rest (hoisted all the same), so the body's lines keep their numbers.
  return { body: `try {\n${body}\n} finally {\n${keep}\n}\n${functions.join("\n")}`, modules: modules };
}

function importedNames(ts: typeof TS, statement: TS.ImportDeclaration): string[] {
  const clause = statement.importClause;
  const names = clause?.name ? [clause.name.text] : [];
  const bindings = clause?.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
  if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((e) => e.name.text));
  return names;
}

export function bindingNames(ts: typeof TS, name: TS.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((element) => (ts.isOmittedExpression(element) ? [] : bindingNames(ts, element.name)));
}
