// Independent training runs of a comparison (lecture 04's rows, lecture 03's draws, lecture 05's ladder) side by side, one
// per worker thread, each worker on the notebook's engine with one thread: on two cores, two rows take
// the time of one. Each job is plain data (parallel-jobs.ts), so a worker gives the same bits as the
// notebook's thread. One live line per job; Stop ends the run, keeping the rows that finished; a
// worker's error ends the cell with that error; every worker is ended when the run ends.
import { Worker } from "node:worker_threads";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { engineInfo } from "../engine";
import { LiveDisplay, escapeHtml } from "../display/display";
import { StopRequest } from "./stop";
import type { TrainJobResult } from "./parallel-jobs";
import type { AnyJob } from "./any-job";
import type { FromWorker, ToWorker } from "./parallel-worker";

export interface ParallelOptions {
  /**
   * Worker threads (default: one per free core, at most the number of jobs). On a machine whose cores
   * are busy with other work, a second worker only competes for the same core: measured 0.86-1.09x at
   * load 9 on 2 cores (scripts/bench-parallel.ts).
   */
  workers?: number;
  /** Show one live progress line per job (default true). */
  progress?: boolean;
  title?: string;
}

export interface ParallelResult {
  /** results[k] belongs to jobs[k]; undefined for a job that Stop ended before it finished. */
  results: (TrainJobResult | undefined)[];
  workers: number;
  stopped: boolean;
  seconds: number;
}

/** Trains every job, `workers` at a time, and returns their results in the jobs' order. */
export async function trainInWorkers(jobs: AnyJob[], options: ParallelOptions = {}): Promise<ParallelResult> {
  const count = Math.max(1, Math.min(options.workers ?? (await freeCores()), jobs.length));
  if (!Number.isInteger(count)) throw new Error(`trainInWorkers: workers must be an integer >= 1 (got ${options.workers}).`);
  const results: (TrainJobResult | undefined)[] = jobs.map(() => undefined);
  const lines = jobs.map((job) => `${job.name}: waiting`);
  const display = options.progress ?? true ? new LiveDisplay() : undefined;
  const title = `${options.title ?? "trainInWorkers"}: ${jobs.length} runs on ${count} worker${count === 1 ? "" : "s"}`;
  const start = performance.now();
  let lastShown = 0;
  const show = async (force = false) => {
    if (!display || (!force && performance.now() - lastShown < 500)) return;
    lastShown = performance.now();
    await display.update(`<pre style="margin:0">${[title, ...lines].map(escapeHtml).join("\n")}</pre>`, [title, ...lines].join(" | "));
  };
  const stop = await StopRequest.listen();
  const workers: Worker[] = [];
  let watch: NodeJS.Timeout | undefined;
  try {
    let next = 0;
    const done = new Promise<void>((resolve, reject) => {
      let finished = 0;
      const fail = (index: number, message: string, stack?: string) => {
        const where = index >= 0 ? `job "${jobs[index].name}"` : "a worker";
        const error = new Error(`trainInWorkers: ${where} failed in its worker: ${message}`);
        if (stack) error.stack = `${error.message}\n(worker) ${stack}`;
        reject(error);
      };
      const give = (worker: Worker) => {
        if (next >= jobs.length) return;
        const index = next++;
        lines[index] = `${jobs[index].name}: starting`;
        worker.postMessage({ type: "job", index, job: jobs[index] } satisfies ToWorker);
      };
      for (let w = 0; w < count; w++) {
        const worker = new Worker(workerFile(), {
          workerData: { engine: engineInfo().engine },
          env: { ...process.env, ZTH_THREADS: "1" },
        });
        workers.push(worker);
        worker.on("error", (error) => fail(-1, error.message, error.stack));
        worker.on("exit", (code) => {
          if (code !== 0 && finished < jobs.length && !stop.requested) fail(-1, `it exited with code ${code}`);
        });
        worker.on("message", (message: FromWorker) => {
          if (message.type === "ready") return give(worker);
          if (message.type === "error") return fail(message.index, message.message, message.stack);
          const job = jobs[message.index];
          if (message.type === "progress") {
            lines[message.index] = `${job.name}: step ${message.step.toLocaleString("en")}/${job.steps.toLocaleString("en")} | loss ${message.loss.toFixed(4)} | ${Math.round(message.stepsPerSecond).toLocaleString("en")} steps/s`;
            void show();
            return;
          }
          results[message.index] = message.result;
          lines[message.index] = `${job.name}: ${job.steps.toLocaleString("en")} steps in ${message.result.seconds.toFixed(0)} s`;
          void show(true);
          if (++finished === jobs.length) resolve();
          else give(worker);
        });
      }
      // Stop arrives as an event in this thread; the workers cannot hear it, so they are ended here.
      watch = setInterval(() => stop.requested && resolve(), 100);
    });
    await done;
  } finally {
    clearInterval(watch);
    stop.close();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  if (stop.requested) lines.forEach((line, k) => (lines[k] = results[k] ? line : `${jobs[k].name}: stopped, no result`));
  await show(true);
  return { results, workers: count, stopped: stop.requested, seconds: (performance.now() - start) / 1000 };
}

/**
 * Cores not busy with other work: how many were idle over a short sample of the machine's CPU times
 * (this process waits meanwhile, so its own thread is not counted). The 1-minute load average, used
 * before, still remembered the notebook's previous cell: after notebook 05's GPT on both cores or
 * 03's last run it read as a busy machine, and the next comparison trained on one worker.
 */
export async function freeCores(sampleMs = 300): Promise<number> {
  const before = os.cpus();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = os.cpus();
  const total = (times: os.CpuInfo["times"]) => times.user + times.nice + times.sys + times.idle + times.irq;
  const idle = after.reduce((sum, cpu, i) => {
    const elapsed = total(cpu.times) - total(before[i].times);
    return sum + (elapsed > 0 ? (cpu.times.idle - before[i].times.idle) / elapsed : 1);
  }, 0);
  return Math.max(1, Math.min(after.length, Math.round(idle)));
}

/** The worker's built file: beside this one in lib/dist, or there when this runs from source (tests). */
function workerFile(): string {
  const candidates = [path.join(__dirname, "parallel-worker.js"), path.join(__dirname, "..", "dist", "runtime", "parallel-worker.js")];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new Error("trainInWorkers: the built worker (lib/dist/runtime/parallel-worker.js) is missing: run `npm run build`.");
  return found;
}
