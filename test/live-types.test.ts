// Live mode's type checker (scripts/live/type-check.ts) in Node, over the declaration files the site
// ships (scripts/live-declarations.ts): a type error is reported with the cell's line and column,
// earlier cells' declarations are visible, a name may be declared again as in tslab, a refused cell
// declares nothing, and every live lecture's cells check without a false error.
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import * as ts from "typescript";
import { notebooksDir } from "../scripts/cli";
import { type DeclarationFiles, CellChecker } from "../scripts/live/type-check";
import { collectDeclarations } from "../scripts/live-declarations";
import { joinText, readNotebook } from "../scripts/notebook-file";

let declarations: DeclarationFiles;
before(() => {
  declarations = collectDeclarations();
});

test("a type error names the cell's line and column; earlier declarations are visible, redeclaring is allowed", () => {
  const checker = new CellChecker(ts, declarations);
  assert.deepEqual(checker.check(`import { Generator } from "zero-to-hero";\nconst answer = 6 * 7;`), []);
  assert.deepEqual(checker.check(`console.log("first");\nconst n: number = "a";`), ["line 2, column 7: Type 'string' is not assignable to type 'number'."]);
  assert.deepEqual(checker.check(`const s: string = answer;`), ["line 1, column 7: Type 'number' is not assignable to type 'string'."]);
  assert.deepEqual(checker.check(`const answer = "forty-two";\nconst g = new Generator(42);`), []);
  assert.deepEqual(checker.check(`const s: string = answer;\nconst x: number = g.random();`), []);
  assert.match(checker.check(`g.noSuchMethod();`)[0], /^line 1, column 3: Property 'noSuchMethod' does not exist on type 'Generator'/);
});

test("a refused cell declares nothing for later cells, as in tslab", () => {
  const checker = new CellChecker(ts, declarations);
  assert.equal(checker.check(`const bad: number = "a";\nconst other = 1;`).length, 1);
  assert.match(checker.check(`other`)[0], /^line 1, column 1: Cannot find name 'other'/);
});

for (const file of ["00-micrograd", "01-bigram", "02-simple-nn", "03-mlp", "04-init-batchnorm", "05-gpt"]) {
  test(`every cell of ${file} checks, in order, without a type error`, { timeout: 5 * 60_000 }, () => {
    const checker = new CellChecker(ts, declarations);
    const cells = readNotebook(path.join(notebooksDir, `${file}.ipynb`)).cells.filter((cell) => cell.cell_type === "code");
    for (const [i, cell] of cells.entries()) assert.deepEqual(checker.check(joinText(cell.source)), [], `code cell ${i + 1}`);
  });
}
