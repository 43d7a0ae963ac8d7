// Puts a static picture of every plot into an executed notebook, for the places where scripts do
// not run: an untrusted notebook in JupyterLab, GitHub's and nbviewer's renderers. There only the
// grey note in a plot's <div> would show; after this step the <div> holds a PNG of the plot instead.
// The plot's script stays as it is: where scripts run, it clears the <div> and draws the interactive
// plot over the picture.
//
// The pictures are taken from the notebook's page on the site (build-site.ts renders it) in headless
// Chromium with Plotly.toImage; the notebook is written back, and build-site.ts renders the page
// again, so the page carries the pictures too.
import * as fs from "node:fs";
import { type Browser, type Page, openPage, waitForPlots } from "./browser";
import { type Notebook, type Output, joinText, readNotebook, writeNotebook } from "./notebook-file";

/** A plot's container as lib/display/plot.ts writes it, then what it holds: the grey note or an earlier picture. */
const plotDivPattern = /(<div class="zth-plot" id="([^"]+)"[^>]*>)(<p\b[^>]*>([\s\S]*?)<\/p>|<img\b[^>]*>)(<\/div>)/g;

/**
 * The HTML of one output with each plot's note replaced by its picture (`images`: plot id -> PNG
 * data URL). Plots without a picture, the script and everything else stay exactly as they were.
 */
export function embedImagesInHtml(html: string, images: ReadonlyMap<string, string>): { html: string; embedded: string[] } {
  const embedded: string[] = [];
  const result = html.replace(plotDivPattern, (whole, open: string, id: string, content: string, note: string | undefined, close: string) => {
    const dataUrl = images.get(id);
    if (!dataUrl) return whole;
    embedded.push(id);
    return `${open}<img src="${dataUrl}" alt="${altText(content, note)}" style="max-width:100%">${close}`;
  });
  return { html: result, embedded };
}

/** The plot's title for the picture's alt text: from the note (`Plot "title": it is drawn...`, already
 *  HTML-escaped by lib/display/plot.ts) or from the alt of an earlier picture. */
function altText(content: string, note: string | undefined): string {
  const title = note !== undefined ? /^Plot "([^"]*)"/.exec(note)?.[1] : /\balt="([^"]*)"/.exec(content)?.[1];
  return title || "Plot";
}

/** Rewrites every text/html output of the notebook in place; returns the ids that got a picture. */
export function embedImagesInNotebook(notebook: Notebook, images: ReadonlyMap<string, string>): string[] {
  const embedded: string[] = [];
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const data = htmlData(output);
      if (!data) continue;
      const before = joinText(data["text/html"]);
      const after = embedImagesInHtml(before, images);
      if (after.embedded.length === 0) continue;
      embedded.push(...after.embedded);
      // Keep the form the output had: Jupyter writes multi-line strings as a list of lines.
      data["text/html"] = Array.isArray(data["text/html"]) ? splitLines(after.html) : after.html;
    }
  }
  return embedded;
}

/** Ids of the plots in the notebook's outputs, in order. */
export function plotIds(notebook: Notebook): string[] {
  const ids: string[] = [];
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const data = htmlData(output);
      if (data) for (const match of joinText(data["text/html"]).matchAll(plotDivPattern)) ids.push(match[2]);
    }
  }
  return ids;
}

function htmlData(output: Output): { "text/html": string | string[] } | undefined {
  const data = output.data as Record<string, string | string[]> | undefined;
  return (output.output_type === "display_data" || output.output_type === "execute_result") && data?.["text/html"] !== undefined
    ? (data as { "text/html": string | string[] })
    : undefined;
}

/** Python's str.splitlines(keepends=True) for "\n" line ends, as nbformat stores text. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

// ---------------------------------------------------------------------------------------------
// the browser side

export interface PlotPicture {
  id: string;
  dataUrl?: string;
  error?: string; // not drawn, or Plotly.toImage failed
}

/**
 * A PNG of every plot on an open page, at the size it is drawn (the figure's own width and height;
 * the page's width for plots without one) and scale 1, to keep the notebook small.
 */
export async function takePlotPictures(page: Page): Promise<PlotPicture[]> {
  await waitForPlots(page);
  // No named inner functions here: the callback is sent to the page as source text.
  return page.evaluate(async () => {
    type GraphDiv = HTMLElement & { data?: unknown; _fullLayout?: { width: number; height: number } };
    const plotly = (window as unknown as {
      Plotly?: { toImage(gd: HTMLElement, options: { format: "png"; width: number; height: number; scale: number }): Promise<string> };
    }).Plotly;
    const pictures: { id: string; dataUrl?: string; error?: string }[] = [];
    for (const div of Array.from(document.querySelectorAll<GraphDiv>(".zth-plot"))) {
      if (!plotly || !div.data || !div._fullLayout) {
        pictures.push({ id: div.id, error: "plotly did not draw it" });
        continue;
      }
      try {
        const { width, height } = div._fullLayout;
        pictures.push({ id: div.id, dataUrl: await plotly.toImage(div, { format: "png", width, height, scale: 1 }) });
      } catch (error) {
        pictures.push({ id: div.id, error: `Plotly.toImage failed: ${String(error)}` });
      }
    }
    return pictures;
  });
}

export interface EmbedResult {
  notebook: string;
  plots: number;
  embedded: number;
  errors: string[];
  /** The notebook's size before and after, in bytes. */
  bytesBefore: number;
  bytesAfter: number;
  seconds: number;
  ok: boolean;
}

/**
 * Takes the pictures of the plots on `pagePath` (the page made from `notebookPath`) and writes them
 * into the notebook. A notebook without plots is left alone.
 */
export async function embedPlotImages(notebookPath: string, pagePath: string, options: { browser: Browser }): Promise<EmbedResult> {
  const started = Date.now();
  const bytesBefore = fs.statSync(notebookPath).size;
  const notebook = readNotebook(notebookPath);
  const ids = plotIds(notebook);
  const result = (embedded: number, errors: string[]): EmbedResult => ({
    notebook: notebookPath, plots: ids.length, embedded, errors, bytesBefore, bytesAfter: fs.statSync(notebookPath).size,
    seconds: (Date.now() - started) / 1000, ok: embedded === ids.length && errors.length === 0,
  });
  if (ids.length === 0) return result(0, []);

  const page = await options.browser.newPage({ viewport: { width: 1200, height: 900 } });
  let pictures: PlotPicture[] = [];
  const errors: string[] = [];
  try {
    await openPage(page, pagePath);
    pictures = await takePlotPictures(page);
  } catch (error) {
    // Reported with the notebook; the run goes on with the next one.
    errors.push(`the page failed in the browser: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await page.close();
  }
  errors.push(...pictures.filter((p) => p.error).map((p) => `${p.id}: ${p.error}`));
  const images = new Map(pictures.filter((p) => p.dataUrl).map((p) => [p.id, p.dataUrl!] as const));
  const missing = ids.filter((id) => !pictures.some((p) => p.id === id));
  if (missing.length > 0) errors.push(`not on the page: ${missing.join(", ")}`);

  const embedded = embedImagesInNotebook(notebook, images);
  if (embedded.length > 0) writeNotebook(notebookPath, notebook);
  return result(embedded.length, errors);
}
