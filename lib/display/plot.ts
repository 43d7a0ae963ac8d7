// Interactive plotly figures in notebook cells, offline.
//
// plotly.js is 4.8 MB, so `setupPlots()` puts it into the page once per notebook (its first cell)
// and each figure is then a small <div> plus a script that draws it. Nothing is fetched from the
// internet, so plots render in JupyterLab, the classic Notebook and exported HTML alike.
// Where scripts are stripped (an untrusted notebook), a note stays visible in the figure's place.
import { escapeHtml, showHtml } from "./display";
import { plotlyScriptHtml } from "./plotly-script";
import { figureIdPrefix } from "./figure-id";

export { plotlyScriptHtml };

/** A plotly trace, e.g. { type: "scatter", y: [...] }: see plotly's reference for every attribute. */
export type Trace = Record<string, unknown>;
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
}

export interface PlotOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** Loads plotly.js into the notebook page; call it once, in the notebook's first cell. */
export function setupPlots(): void {
  showHtml(plotlyScriptHtml(), "(plots render only in a notebook)");
}

let figureCount = 0;

/** The HTML of one figure: a placeholder that the script replaces with the drawn plot. */
export function figureHtml(figure: Figure): string {
  const id = `zth-plot-${figureIdPrefix()}-${Date.now().toString(36)}-${figureCount++}`;
  // A width is a largest width: the figure fills the output area up to it and shrinks with it
  // (JupyterLab's output area is ~840 px wide), plotly redrawing it to fit (autosize, responsive).
  const maxWidth = figure.layout.width as number | undefined;
  const height = (figure.layout.height as number | undefined) ?? 400;
  const size = `width:100%;${maxWidth ? `max-width:${maxWidth}px;` : ""}height:${height}px;`;
  const fitted: Figure = { data: figure.data, layout: { ...figure.layout, width: undefined, autosize: true } };
  // JSON inside a script: escape "<" so no string in the data can close the script element.
  const json = JSON.stringify(fitted).replace(/</g, "\\u003c");
  const title = typeof figure.layout.title === "object" ? (figure.layout.title as { text?: string }).text : undefined;
  const note = `Plot${title ? ` "${escapeHtml(title)}"` : ""}: it is drawn by plotly.js when the notebook is trusted and its first cell (setupPlots) has run.`;
  return `<div class="zth-plot" id="${id}" style="${size}"><p style="color:#888;font-style:italic">${note}</p></div>
<script type="text/javascript">
(function () {
  var figure = ${json};
  var attempts = 0;
  // Wait for the element (JupyterLab attaches outputs after running their scripts) and for plotly.js.
  function draw() {
    var element = document.getElementById(${JSON.stringify(id)});
    if (!element || !window.Plotly) {
      if (attempts++ < 200) { setTimeout(draw, 50); }
      else if (element) { element.textContent = "plotly.js is not loaded: run the notebook's first cell (setupPlots) and this cell again."; }
      return;
    }
    element.innerHTML = "";
    window.Plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false });
  }
  draw();
})();
</script>`;
}

/** Shows a figure under the current cell. */
export function show(figure: Figure): void {
  const title = (figure.layout.title as { text?: string } | undefined)?.text;
  showHtml(figureHtml(figure), `(figure${title ? ` "${title}"` : ""}: shown in a notebook)`);
}

function baseLayout(options: PlotOptions): Record<string, unknown> {
  return {
    ...(options.title ? { title: { text: options.title } } : {}),
    xaxis: options.xTitle ? { title: { text: options.xTitle } } : {},
    yaxis: options.yTitle ? { title: { text: options.yTitle } } : {},
    ...(options.width ? { width: options.width } : {}),
    height: options.height ?? 400,
    margin: { t: options.title ? 50 : 20, r: 20, b: 50, l: 60 },
  };
}

export interface Series {
  y: ArrayLike<number>;
  x?: ArrayLike<number>;
  name?: string;
  /** A dashed or dotted line ("dash", "dot"), e.g. a guide line. */
  dash?: string;
}

/** Lines, e.g. a loss curve: `linePlot(losses)` or `linePlot([{ y: train, name: "train" }, ...])`. */
export function linePlot(series: ArrayLike<number> | Series | Series[], options: PlotOptions & { logY?: boolean } = {}): Figure {
  const list: Series[] = Array.isArray(series) && typeof series[0] === "object" ? (series as Series[])
    : "y" in (series as object) ? [series as Series] : [{ y: series as ArrayLike<number> }];
  const layout = baseLayout(options);
  if (options.logY) (layout.yaxis as Record<string, unknown>).type = "log";
  layout.showlegend = list.some((s) => s.name);
  return {
    data: list.map((s) => ({
      type: "scatter",
      mode: "lines",
      y: Array.from(s.y),
      ...(s.x ? { x: Array.from(s.x) } : {}),
      ...(s.name ? { name: s.name } : {}),
      ...(s.dash ? { line: { dash: s.dash, color: "black" } } : {}),
    })),
    layout,
  };
}

/**
 * The mean of each run of `window` values, at the step that ends it: a noisy per-step loss curve made
 * readable, as the lecture's `torch.tensor(lossi).view(-1, 1000).mean(1)`. A last partial window is dropped.
 */
export function windowMeans(values: ArrayLike<number>, window: number): { x: number[]; y: number[] } {
  if (!Number.isInteger(window) || window < 1) throw new Error(`windowMeans: window must be an integer >= 1 (got ${window}).`);
  const x: number[] = [];
  const y: number[] = [];
  for (let start = 0; start + window <= values.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += values[i];
    x.push(start + window);
    y.push(sum / window);
  }
  return { x, y };
}

/** Points, optionally labelled: a function sampled at points, or a 2-D embedding with a character on each point. */
export function scatterPlot(
  points: { x: ArrayLike<number>; y: ArrayLike<number>; labels?: string[]; name?: string; color?: ArrayLike<number> }[],
  options: PlotOptions & { equalAxes?: boolean } = {},
): Figure {
  const layout = baseLayout(options);
  if (options.equalAxes) (layout.yaxis as Record<string, unknown>).scaleanchor = "x";
  layout.showlegend = points.some((p) => p.name);
  return {
    data: points.map((p) => ({
      type: "scatter",
      mode: p.labels ? "markers+text" : "markers",
      x: Array.from(p.x),
      y: Array.from(p.y),
      ...(p.labels ? { text: p.labels, textposition: "middle center", textfont: { color: "white", size: 11 } } : {}),
      marker: { size: p.labels ? 18 : 7, ...(p.color ? { color: Array.from(p.color), colorscale: "RdBu" } : {}) },
      ...(p.name ? { name: p.name } : {}),
    })),
    layout,
  };
}

/** Low values white, high values dark blue, as matplotlib's "Blues" in the lecture (plotly's "Blues" runs the other way). */
const WHITE_TO_BLUE: [number, string][] = [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]];

export interface HeatmapOptions extends PlotOptions {
  /** Text drawn in each cell (may contain <br>), e.g. the bigram and its count. */
  cellText?: string[][];
  xLabels?: string[];
  yLabels?: string[];
  /** A plotly colorscale name ("Greys", "Viridis", ...) or a list of [fraction, colour] stops. */
  colorscale?: string | [number, string][];
  showScale?: boolean;
}

/**
 * A matrix as colours, row 0 at the top (like matplotlib's imshow), optionally with text in each cell:
 * the lecture's 27x27 bigram count picture.
 */
export function heatmap(matrix: number[][], options: HeatmapOptions = {}): Figure {
  const layout = baseLayout(options);
  layout.yaxis = { ...(layout.yaxis as object), autorange: "reversed", ...(options.yLabels ? { tickmode: "array", tickvals: options.yLabels.map((_, i) => i), ticktext: options.yLabels } : {}) };
  layout.xaxis = { ...(layout.xaxis as object), side: "top", ...(options.xLabels ? { tickmode: "array", tickvals: options.xLabels.map((_, i) => i), ticktext: options.xLabels } : {}) };
  return {
    data: [
      {
        type: "heatmap",
        z: matrix,
        colorscale: options.colorscale ?? WHITE_TO_BLUE,
        showscale: options.showScale ?? !options.cellText,
        ...(options.cellText
          ? { text: options.cellText, texttemplate: "%{text}", textfont: { size: 8 }, hovertemplate: "%{text}<extra></extra>" }
          : {}),
      },
    ],
    layout,
  };
}

/** A matrix as a grey-scale image (e.g. one-hot rows, or |tanh| > 0.99 as white), row 0 at the top. */
export function matrixImage(matrix: number[][], options: HeatmapOptions = {}): Figure {
  return heatmap(matrix, { colorscale: "Greys", showScale: true, ...options });
}

/** A true/false matrix in black and white, true white (as the lecture's imshow(h.abs() > 0.99, cmap="gray")). */
export function booleanImage(matrix: boolean[][] | number[][], options: PlotOptions = {}): Figure {
  const z = matrix.map((row) => (row as (boolean | number)[]).map((v) => (v ? 1 : 0)));
  const figure = heatmap(z, { colorscale: [[0, "black"], [1, "white"]], showScale: false, ...options });
  Object.assign(figure.data[0], { zmin: 0, zmax: 1 }); // all false stays black
  return figure;
}

/** A histogram of values, e.g. the hidden activations. */
export function histogram(values: ArrayLike<number>, options: PlotOptions & { bins?: number } = {}): Figure {
  return {
    data: [{ type: "histogram", x: Array.from(values), ...(options.bins ? { nbinsx: options.bins } : {}) }],
    layout: baseLayout(options),
  };
}
