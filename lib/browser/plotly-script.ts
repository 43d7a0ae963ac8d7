// Browser build of lib/display/plotly-script.ts: the site page has already loaded its own plotly.js.
export function plotlyScriptHtml(): string {
  return `<div class="zth-plotly-setup">plotly.js: the page's own copy (live mode).</div>`;
}
