// Live mode on a lecture page: "Run all", a Run button per code cell, Stop, and quick/full mode. The
// cells run in a Web Worker (worker.ts); its outputs replace the cell's pre-rendered ones. Opened
// from disk (file://) the page says live mode needs a server and keeps the static outputs.

type Output = { kind: "html"; html: string; displayId?: string } | { kind: "stream"; name: string; text: string };
type WorkerMessage = { id: number; type: "output"; output: Output } | { id: number; type: "done"; ok: boolean; error?: string; checkMs?: number };

const liveDir = new URL("assets/live/", document.baseURI);
let worker: Worker | undefined;
let nextId = 0;
let executionCount = 0;
const pending = new Map<number, { cell: HTMLElement; resolve: (ok: boolean) => void }>();
let queue: HTMLElement[] = [];
let running = false;

function makeToolbar(): HTMLElement {
  const bar = document.createElement("div");
  bar.className = "live-bar";
  bar.innerHTML = `<button type="button" class="live-run-all">Run all</button> <button type="button" class="live-stop" disabled>Stop</button>
<label>Mode <select class="live-mode"><option value="quick" selected>quick (short training)</option><option value="full">full (as the lecture)</option></select></label>
<label title="WASM (SIMD, one thread) runs these small models fastest; WebGL uses the graphics card where the browser has one. Changing it starts the cells afresh.">Engine <select class="live-engine"><option value="wasm" selected>wasm</option><option value="webgl">webgl</option></select></label>
<label title="Check each cell's types against the cells before it, as the Jupyter kernel does; a cell with a type error does not run."><input type="checkbox" class="live-check" checked> Check types</label>
<span class="live-status">Live mode: cells run in this browser.</span>`;
  return bar;
}

function showStatus(text: string): void {
  const element = document.querySelector(".live-status");
  if (element) element.textContent = text;
}

function startWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL("worker.js", liveDir));
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => handle(event.data);
  worker.onerror = (event) => showStatus(`Live mode failed to start: ${event.message}`);
  const engine = document.querySelector<HTMLSelectElement>(".live-engine")?.value ?? "wasm";
  worker.postMessage({ type: "init", siteUrl: new URL(".", document.baseURI).href, engine: engine });
  return worker;
}

function outputsOf(cell: HTMLElement): HTMLElement {
  let outputs = cell.querySelector<HTMLElement>(":scope > .outputs");
  if (!outputs) {
    outputs = document.createElement("div");
    outputs.className = "outputs";
    cell.append(outputs);
  }
  return outputs;
}

/** Inserts HTML and runs its scripts (innerHTML alone does not: our plots draw from a script). */
function setHtml(element: HTMLElement, html: string): void {
  element.innerHTML = html;
  for (const old of Array.from(element.querySelectorAll("script"))) {
    const script = document.createElement("script");
    script.text = old.text;
    old.replaceWith(script);
  }
}

function handle(message: WorkerMessage): void {
  const entry = pending.get(message.id);
  if (!entry) return;
  const outputs = outputsOf(entry.cell);
  if (message.type === "done") {
    pending.delete(message.id);
    // How long the type check took, for the tests and for anyone curious (the page does not show it).
    if (message.checkMs !== undefined) entry.cell.dataset.checkMs = message.checkMs.toFixed(0);
    if (!message.ok) appendText(outputs, "stderr", `${message.error ?? "error"}\n`);
    entry.resolve(message.ok);
    return;
  }
  const output = message.output;
  if (output.kind === "stream") return appendText(outputs, output.name, output.text);
  let box = output.displayId ? outputs.querySelector<HTMLElement>(`[data-display-id="${output.displayId}"]`) : null;
  if (!box) {
    box = document.createElement("div");
    box.className = "output html";
    if (output.displayId) box.dataset.displayId = output.displayId;
    outputs.append(box);
  }
  setHtml(box, output.html);
}

function appendText(outputs: HTMLElement, name: string, text: string): void {
  const last = outputs.lastElementChild;
  if (last instanceof HTMLPreElement && last.classList.contains(name)) {
    last.textContent += text;
    return;
  }
  const pre = document.createElement("pre");
  pre.className = `output stream ${name}`;
  pre.textContent = text;
  outputs.append(pre);
}

function runCell(cell: HTMLElement): Promise<boolean> {
  const source = cell.querySelector("code")?.textContent ?? "";
  const quick = (document.querySelector<HTMLSelectElement>(".live-mode")?.value ?? "quick") === "quick";
  const check = document.querySelector<HTMLInputElement>(".live-check")?.checked ?? true;
  const id = ++nextId;
  outputsOf(cell).replaceChildren();
  cell.classList.add("running");
  const prompt = cell.querySelector(".prompt");
  if (prompt) prompt.textContent = "In [*]:";
  startWorker().postMessage({ type: "run", id: id, source: source, quick: quick, check: check });
  return new Promise<boolean>((resolve) => pending.set(id, { cell: cell, resolve: resolve })).then((ok) => {
    cell.classList.remove("running");
    cell.classList.toggle("failed", !ok);
    if (prompt) prompt.textContent = `In [${++executionCount}]:`;
    return ok;
  });
}

/** Runs the queued cells one after another; an error or Stop ends the queue, as in Jupyter. */
async function drain(): Promise<void> {
  if (running) return;
  running = true;
  const stop = document.querySelector<HTMLButtonElement>(".live-stop");
  const engine = document.querySelector<HTMLSelectElement>(".live-engine");
  if (stop) stop.disabled = false;
  if (engine) engine.disabled = true;
  showStatus("Running...");
  let ok = true;
  while (queue.length > 0 && ok) ok = await runCell(queue.shift() as HTMLElement);
  queue = [];
  running = false;
  if (stop) stop.disabled = true;
  if (engine) engine.disabled = false;
  showStatus(ok ? "Done." : "Stopped at an error: see the cell's output.");
}

function enqueue(cells: HTMLElement[]): void {
  queue.push(...cells);
  void drain();
}

function setup(): void {
  const main = document.querySelector("main");
  const cells = Array.from(document.querySelectorAll<HTMLElement>("section.cell.code"));
  if (!main || cells.length === 0) return;
  if (location.protocol === "file:") {
    const note = document.createElement("p");
    note.className = "live-note";
    note.textContent = "Live mode (running the cells in this browser) needs the site served over http: run `npm run serve` and open the address it prints. The outputs below are from the notebook's last run.";
    main.prepend(note);
    return;
  }
  main.prepend(makeToolbar());
  document.querySelector(".live-run-all")?.addEventListener("click", () => enqueue(cells));
  document.querySelector(".live-engine")?.addEventListener("change", () => {
    if (!worker) return;
    // The engine starts once per worker (the choice is disabled while cells run): a new worker, and the cells' variables with the old one are gone.
    worker.terminate();
    worker = undefined;
    showStatus("Engine changed: run the cells again from the first one (the earlier cells' variables are gone).");
  });
  document.querySelector(".live-stop")?.addEventListener("click", () => {
    queue = [];
    worker?.postMessage({ type: "stop" });
    showStatus("Stop: the training loop ends after its current step.");
  });
  for (const cell of cells) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "live-run";
    button.textContent = "Run";
    button.addEventListener("click", () => enqueue([cell]));
    cell.querySelector(".input")?.append(button);
  }
}

setup();

export {};
