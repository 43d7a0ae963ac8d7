// Entry of the library's browser build: the whole library (its Node-only modules swapped for the
// ones in this folder by scripts/build-live.ts), and the host the live-mode worker fills in.
export * from "../index";
export { host as browserHost, type BrowserHost, type LiveOutput } from "./host";
// The notebooks' `import * as tf from "@tensorflow/tfjs"`: the same TensorFlow.js the library runs on.
export * as tf from "@tensorflow/tfjs";
// What cells get for `import * as fs from "fs"` (and path, os): files in the page's memory.
export * as memoryFiles from "./memory-files";
