// plotly.js for a notebook page: the whole bundle inline, read from node_modules (a browser build of
// the library swaps this file for one that uses the copy the site page already loads).
import * as fs from "fs";
import * as path from "path";
import { figureIdPrefix } from "./figure-id";

/** The plotly.js bundle in a <script>, to run once per page. */
export function plotlyScriptHtml(): string {
  const bundlePath = require.resolve("plotly.js-dist-min");
  const source = fs.readFileSync(bundlePath, "utf8").replace(/<\/script/gi, "<\\/script");
  const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(bundlePath), "package.json"), "utf8")) as {
    version: string;
  }).version;
  // The text says "loaded" only once the script has run: where scripts are stripped (an untrusted
  // notebook) the plots show as pictures and the note says why.
  const id = `zth-plotly-setup-${figureIdPrefix()}-${Date.now().toString(36)}`;
  return `<div class="zth-plotly-setup" id="${id}">plotly.js ${version} is not loaded (the notebook is not trusted): plots show as pictures.</div>
<script type="text/javascript">${source}</script>
<script type="text/javascript">
(function () {
  var attempts = 0;
  // As for figures: JupyterLab may attach the output only after running its scripts.
  function update() {
    var note = document.getElementById(${JSON.stringify(id)});
    if (note && window.Plotly) note.textContent = "plotly.js ${version} loaded for this notebook (offline).";
    else if (attempts++ < 100) setTimeout(update, 50);
  }
  update();
})();
</script>`;
}
