// What the browser build of the library needs from the page that runs it (the one small interface in
// place of Node's files, signals and environment): where the site's files are, quick or full mode,
// whether Stop was pressed, and where a cell's outputs go. The live-mode worker fills it in.

export type LiveOutput =
  | { kind: "html"; html: string; displayId?: string }
  | { kind: "stream"; name: "stdout" | "stderr"; text: string };

export interface BrowserHost {
  /** URL of the site's folder, ending in "/": data files are under data/, TensorFlow.js's .wasm under assets/live/. */
  siteUrl: string;
  quick: boolean;
  /** The page's engine choice, used when a cell's `initEngine()` names none. */
  engine: "wasm" | "webgl";
  /** Set by the page's Stop button; a training loop ends after its current step. */
  stopRequested: boolean;
  post(output: LiveOutput): void;
}

export const host: BrowserHost = {
  siteUrl: "./",
  quick: true,
  engine: "wasm",
  stopRequested: false,
  post: () => undefined,
};

/** Lets queued messages (Stop) be handled: a message round trip, cheaper than a timer's 4 ms minimum. */
export function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
