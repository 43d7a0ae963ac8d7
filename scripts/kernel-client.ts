// A Jupyter kernel client in TypeScript: starts this project's tslab kernel and runs code in it over
// Jupyter's messaging protocol (ZeroMQ, messages signed with HMAC-SHA256), so running the notebooks
// needs no Python.
//
//   const kernel = await startKernel({ cwd: notebooksDir, env });
//   const run = kernel.execute("console.log(1 + 1)", { timeoutMs: 60_000, onOutput: (output) => ... });
//   const { status, outputs, executionCount, error } = await run;   // status: ok | error | abort | timeout | dead
//   kernel.interrupt();          // SIGINT to the kernel (tslab's interrupt mode): the running cell ends
//   await kernel.settle(200);    // wait, then until every output the kernel wrote so far has arrived
//   await kernel.shutdown();     // shutdown_request, then SIGTERM/SIGKILL if the process stays
//
// Outputs are collected as nbformat stores them: consecutive stream outputs of the same name are
// merged, display_data and execute_result kept, update_display_data applied to every output with the
// same display_id (also in earlier executions' outputs, as Jupyter does), clear_output honoured.
// `onOutput(output, event, displayId)` sees each output as it arrives or changes (e.g. a live training progress line).
// Output that arrives after its execution has finished (a promise the cell forgot to await, rejected
// later: tslab writes "UnhandledPromiseRejection" to stderr) is added to that execution's outputs, as
// Jupyter shows it in that cell; a caller looks again after the next execution or `settle()`.
//
// No kernel outlives its runner: the kernel runs in its own process group (a Ctrl-C in the terminal
// reaches only the runner, which then stops every kernel it started, as on SIGTERM and SIGHUP), and a
// preloaded watchdog ends the kernel when its stdin pipe closes, i.e. when the runner is gone, even
// after a SIGKILL. The connection file (it holds the HMAC key) is removed as soon as the kernel has
// read it, and on every exit path before that, interrupts included.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zmq from "zeromq";
import type { Output } from "./notebook-file";
import { projectRoot } from "./cli";
import { removeOnExit } from "../lib/remove-on-exit";

const tslabBinary = path.join(projectRoot, "node_modules", ".bin", "tslab");
const watchdog = path.join(__dirname, "kernel-watchdog.cjs");
const delimiter = Buffer.from("<IDS|MSG>");

export type ExecutionStatus = "ok" | "error" | "abort" | "timeout" | "dead";

export interface ExecutionResult {
  status: ExecutionStatus;
  /** The outputs of this execution, in nbformat's form (later display updates change them in place). */
  outputs: Output[];
  executionCount: number | null;
  /** For timeout and dead: what happened, to show the reader. */
  error?: string;
  /** When the kernel started and finished the execution (ISO dates, as nbclient records them). */
  started: string;
  finished: string;
}

export type OutputEvent = "new" | "append" | "update";

export interface ExecuteOptions {
  /** The cell is interrupted after this long and reported as timed out. */
  timeoutMs?: number;
  /** `displayId` is set for a display that can be updated (tslab's newDisplay), e.g. a live progress line. */
  onOutput?: (output: Output, event: OutputEvent, displayId?: string) => void;
}

export interface Kernel {
  readonly pid: number;
  execute(code: string, options?: ExecuteOptions): Promise<ExecutionResult>;
  interrupt(): void;
  /** Waits `graceMs`, then until every output the kernel sent before has arrived (a kernel_info round trip). */
  settle(graceMs: number): Promise<void>;
  shutdown(): Promise<void>;
  /** The kernel process's own stdout and stderr (start-up errors, crashes), the last 20,000 characters. */
  log(): string;
}

export interface StartOptions {
  /** The kernel's working directory: tslab compiles cells relative to it (the notebook's folder). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

interface Message {
  header: { msg_id: string; msg_type: string; [key: string]: unknown };
  parent_header: { msg_id?: string; [key: string]: unknown };
  metadata: Record<string, unknown>;
  content: Record<string, any>;
}

interface Pending {
  outputs: Output[];
  onOutput?: ExecuteOptions["onOutput"];
  reply?: Message;
  idle: boolean;
  /** clear_output(wait=True): clear when the next output arrives. */
  clearOnNext: boolean;
  started: string;
  /** Finishes once both the reply and the idle status are in. */
  check: () => void;
  finish: (result: Omit<ExecutionResult, "outputs" | "started" | "finished">) => void;
}

// ---------------------------------------------------------------------------------------------
// every kernel this process started, stopped when the process is told to stop

const liveKernels = new Set<ChildProcess>();
const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function onStopSignal(signal: NodeJS.Signals): void {
  for (const child of liveKernels) child.kill("SIGKILL");
  console.error(`\nStopped by ${signal}: ${liveKernels.size} kernel(s) ended.`);
  process.exit(signal === "SIGINT" ? 130 : 143);
}

function onExit(): void {
  for (const child of liveKernels) child.kill("SIGKILL");
}

function track(child: ChildProcess): void {
  if (liveKernels.size === 0) {
    for (const signal of stopSignals) process.on(signal, onStopSignal);
    process.on("exit", onExit);
  }
  liveKernels.add(child);
  child.once("exit", () => {
    liveKernels.delete(child);
    // With no kernel left, the process's usual signal handling comes back.
    if (liveKernels.size === 0) {
      for (const signal of stopSignals) process.off(signal, onStopSignal);
      process.off("exit", onExit);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// starting a kernel

/** A free TCP port on 127.0.0.1 (the kernel binds it right after; the usual Jupyter way). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Starts tslab's kernel in `cwd` and waits until it answers on the shell and iopub channels. */
export async function startKernel(options: StartOptions): Promise<Kernel> {
  if (!fs.existsSync(tslabBinary)) throw new Error(`${tslabBinary} is missing: run \`npm ci\` (or \`npm install\`) first.`);
  const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await distinctFreePorts(5);
  const key = randomBytes(32).toString("hex");
  const connection = {
    transport: "tcp", ip: "127.0.0.1", signature_scheme: "hmac-sha256", key,
    shell_port: shellPort, iopub_port: iopubPort, stdin_port: stdinPort, control_port: controlPort, hb_port: hbPort,
    kernel_name: "tslab",
  };
  const connectionDir = fs.mkdtempSync(path.join(os.tmpdir(), "zth-kernel-"));
  const keepUntilExit = removeOnExit(connectionDir);
  const removeConnection = () => {
    fs.rmSync(connectionDir, { recursive: true, force: true });
    keepUntilExit();
  };
  const connectionFile = path.join(connectionDir, "connection.json");
  fs.writeFileSync(connectionFile, JSON.stringify(connection), { mode: 0o600 });

  // What the kernelspec runs (`tslab kernel --config-path {connection_file}`), with the watchdog preloaded.
  const child = spawn(process.execPath, ["--require", watchdog, tslabBinary, "kernel", "--config-path", connectionFile], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  track(child);
  let log = "";
  const keepLog = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout!.on("data", keepLog);
  child.stderr!.on("data", keepLog);
  child.stdin!.on("error", () => undefined); // the kernel may be gone before its pipe

  const client = new KernelClient(child, key, `tcp://127.0.0.1`, { shellPort, iopubPort, controlPort }, () => log, removeConnection);
  try {
    await client.waitUntilReady(options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await client.shutdown();
    throw error;
  }
  removeConnection(); // the kernel has read it and bound its sockets
  return client;
}

// ---------------------------------------------------------------------------------------------
// the client

class KernelClient implements Kernel {
  private readonly session = randomUUID();
  private readonly shell = new zmq.Dealer({ linger: 0 });
  private readonly control = new zmq.Dealer({ linger: 0 });
  private readonly iopub = new zmq.Subscriber({ linger: 0 });
  private readonly pending = new Map<string, Pending>();
  /** Finished executions, for output that arrives late. */
  private readonly finished = new Map<string, Pending>();
  /** display_id -> the outputs showing it, in any execution. */
  private readonly displays = new Map<string, Output[]>();
  /** Waiters for replies to non-execute requests, and for any iopub status of a request. */
  private readonly replyWaiters = new Map<string, (message: Message) => void>();
  private readonly statusSeen = new Set<string>();
  /** zeromq sockets take one send at a time. */
  private sendChain: Promise<void> = Promise.resolve();
  private exited = false;
  private closed = false;
  /** After a failed cell tslab aborts every request for 200 ms; the next execute waits until then. */
  private acceptsRequestsAt = 0;

  constructor(
    private readonly child: ChildProcess,
    private readonly key: string,
    address: string,
    ports: { shellPort: number; iopubPort: number; controlPort: number },
    readonly log: () => string,
    private readonly cleanUp: () => void,
  ) {
    this.shell.connect(`${address}:${ports.shellPort}`);
    this.control.connect(`${address}:${ports.controlPort}`);
    this.iopub.connect(`${address}:${ports.iopubPort}`);
    this.iopub.subscribe();
    void this.listen(this.shell, (message) => this.onReply(message));
    void this.listen(this.control, (message) => this.onReply(message));
    void this.listen(this.iopub, (message) => this.onIopub(message));
    child.once("exit", (code, signal) => {
      this.exited = true;
      const why = `the kernel process exited (${signal ?? `code ${code}`})`;
      for (const pending of this.pending.values()) pending.finish({ status: "dead", executionCount: null, error: `${why}:\n${tail(this.log(), 30)}` });
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // The iopub subscription takes effect a little after connecting, and the kernel binds its sockets
    // only after loading TypeScript: ask for kernel_info until its reply and its iopub status both arrive.
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`The tslab kernel exited while starting:\n${tail(this.log(), 30)}`);
      const id = this.send(this.shell, "kernel_info_request", {});
      const reply = await this.waitForReply(id, 1000);
      if (reply && (this.statusSeen.has(id) || (await delay(200), this.statusSeen.has(id)))) return;
    }
    throw new Error(`The tslab kernel did not answer within ${timeoutMs / 1000} s:\n${tail(this.log(), 30)}`);
  }

  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    await delay(this.acceptsRequestsAt - Date.now());
    const started = new Date().toISOString();
    if (this.exited || this.closed) {
      return Promise.resolve({ status: "dead", outputs: [], executionCount: null, error: "the kernel is not running", started, finished: started });
    }
    return new Promise((resolve) => {
      const outputs: Output[] = [];
      let timer: NodeJS.Timeout | undefined;
      let idleTimer: NodeJS.Timeout | undefined;
      let done = false;
      const pending: Pending = {
        outputs, onOutput: options.onOutput, idle: false, clearOnNext: false, started, check: () => check(),
        finish: (result) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(idleTimer);
          this.pending.delete(id);
          this.finished.set(id, pending);
          resolve({ ...result, outputs, started, finished: new Date().toISOString() });
        },
      };
      const id = this.send(this.shell, "execute_request", {
        code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
      });
      this.pending.set(id, pending);
      // Done when both the reply (shell) and the idle status (iopub) are in: outputs come before idle.
      let timedOut = false;
      const timeoutError = () => `the cell did not finish within ${options.timeoutMs! / 1000} s and was interrupted`;
      const check = () => {
        if (!pending.reply) return;
        const content = pending.reply.content;
        if (content.status !== "ok") this.acceptsRequestsAt = Date.now() + 300;
        const finish = () =>
          pending.finish(timedOut
            ? { status: "timeout", executionCount: content.execution_count ?? null, error: timeoutError() }
            : { status: content.status as ExecutionStatus, executionCount: content.execution_count ?? null });
        if (pending.idle) finish();
        else if (!idleTimer) idleTimer = setTimeout(finish, 5000); // nbclient's grace for a lost idle
      };
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          this.interrupt();
          // The interrupted cell normally ends at once and reports (its stderr is kept); if it does not, give up.
          timer = setTimeout(() => pending.finish({ status: "timeout", executionCount: null, error: `${timeoutError()}; the interrupt did not end it` }), 5000);
        }, options.timeoutMs);
      }
    });
  }

  interrupt(): void {
    if (!this.exited) this.child.kill("SIGINT");
  }

  async settle(graceMs: number): Promise<void> {
    await delay(graceMs);
    if (this.exited || this.closed) return;
    // iopub keeps the kernel's order: once this request's idle status is in, so is everything sent before it.
    const id = this.send(this.shell, "kernel_info_request", {});
    const deadline = Date.now() + 5000;
    while (!this.statusSeen.has(id) && !this.exited && Date.now() < deadline) await delay(10);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.exited) {
      const id = this.send(this.control, "shutdown_request", { restart: false });
      await this.waitForReply(id, 2000);
      // tslab has closed its sockets; closing the kernel's stdin makes the watchdog end the process.
      this.child.stdin?.destroy();
      if (!(await this.waitForExit(3000))) {
        this.child.kill("SIGTERM");
        if (!(await this.waitForExit(3000))) {
          this.child.kill("SIGKILL");
          await this.waitForExit(5000);
        }
      }
    }
    // Not waiting for queued sends: to a kernel that never came up they would wait forever (linger is 0).
    for (const socket of [this.shell, this.control, this.iopub]) socket.close();
    this.child.stdin?.destroy();
    this.cleanUp();
  }

  // -- messages -----------------------------------------------------------------------------

  private sign(frames: Buffer[]): string {
    const hmac = createHmac("sha256", this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  /** Sends a request and returns its msg_id. */
  private send(socket: zmq.Dealer, msgType: string, content: Record<string, unknown>): string {
    const header = { msg_id: randomUUID(), msg_type: msgType, session: this.session, username: "zth", date: new Date().toISOString(), version: "5.3" };
    const frames = [header, {}, {}, content].map((part) => Buffer.from(JSON.stringify(part)));
    const message = [delimiter, Buffer.from(this.sign(frames)), ...frames];
    this.sendChain = this.sendChain.then(() => socket.send(message)).catch(() => undefined);
    return header.msg_id;
  }

  private parse(frames: Buffer[]): Message | undefined {
    const start = frames.findIndex((frame) => frame.equals(delimiter));
    if (start < 0) return undefined;
    const signature = frames[start + 1];
    const parts = frames.slice(start + 2);
    const expected = Buffer.from(this.sign(parts));
    // A message not signed with our key is not from our kernel: ignore it.
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    const [header, parent_header, metadata, content] = parts.slice(0, 4).map((part) => JSON.parse(part.toString()));
    return { header, parent_header, metadata, content };
  }

  private async listen(socket: zmq.Dealer | zmq.Subscriber, handle: (message: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = this.parse(frames as Buffer[]);
        if (message) handle(message);
      }
    } catch {
      // the socket was closed
    }
  }

  private waitForReply(id: string, timeoutMs: number): Promise<Message | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.replyWaiters.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.replyWaiters.set(id, (message) => {
        clearTimeout(timer);
        this.replyWaiters.delete(id);
        resolve(message);
      });
    });
  }

  private waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private onReply(message: Message): void {
    const id = message.parent_header.msg_id ?? "";
    this.replyWaiters.get(id)?.(message);
    const pending = this.pending.get(id);
    if (pending && message.header.msg_type === "execute_reply") {
      pending.reply = message;
      pending.check();
    }
  }

  private onIopub(message: Message): void {
    const id = message.parent_header.msg_id ?? "";
    const type = message.header.msg_type;
    const content = message.content;
    if (type === "status") {
      this.statusSeen.add(id);
      const pending = this.pending.get(id);
      if (pending && content.execution_state === "idle") {
        pending.idle = true;
        pending.check();
      }
      return;
    }
    const displayId: string | undefined = content.transient?.display_id;
    if (type === "update_display_data") {
      // Applies wherever the display is shown, also in an earlier cell's outputs.
      for (const output of this.displays.get(displayId ?? "") ?? []) {
        output.data = content.data;
        output.metadata = content.metadata ?? {};
        this.findOwner(output)?.onOutput?.(output, "update", displayId);
      }
      return;
    }
    const pending = this.pending.get(id) ?? this.finished.get(id); // late output joins its finished execution
    if (!pending) return; // output of no execution of ours
    const outputs = pending.outputs;
    if (pending.clearOnNext && type !== "clear_output") {
      outputs.length = 0;
      pending.clearOnNext = false;
    }
    const emit = (output: Output, event: OutputEvent) => pending.onOutput?.(output, event, displayId);
    switch (type) {
      case "stream": {
        const last = outputs.at(-1);
        if (last?.output_type === "stream" && last.name === content.name) {
          last.text = (last.text as string) + content.text;
          emit(last, "append");
        } else {
          const output: Output = { output_type: "stream", name: content.name, text: content.text };
          outputs.push(output);
          emit(output, "new");
        }
        return;
      }
      case "display_data":
      case "execute_result": {
        const output: Output = { output_type: type, data: content.data, metadata: content.metadata ?? {} };
        if (type === "execute_result") output.execution_count = content.execution_count ?? null;
        outputs.push(output);
        if (displayId) this.displays.set(displayId, [...(this.displays.get(displayId) ?? []), output]);
        emit(output, "new");
        return;
      }
      case "error": {
        const output: Output = { output_type: "error", ename: content.ename, evalue: content.evalue, traceback: content.traceback ?? [] };
        outputs.push(output);
        emit(output, "new");
        return;
      }
      case "clear_output":
        if (content.wait) pending.clearOnNext = true;
        else outputs.length = 0;
        return;
    }
  }

  private findOwner(output: Output): Pending | undefined {
    for (const pending of this.pending.values()) if (pending.outputs.includes(output)) return pending;
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
