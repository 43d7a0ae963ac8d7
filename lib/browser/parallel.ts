// Browser build of lib/runtime/parallel.ts: the page's cells already run in a Web Worker, with one
// engine, so the jobs run one after another here, each through the same runAnyJob as a Node worker (the
// same bits). Same interface and progress lines; Stop ends the run, keeping the jobs that finished.
import { LiveDisplay, escapeHtml } from "../display/display";
import { StopRequest } from "../runtime/stop";
import type { TrainJobResult } from "../runtime/parallel-jobs";
import { runAnyJob, type AnyJob } from "../runtime/any-job";
import type { ParallelOptions, ParallelResult } from "../runtime/parallel";

export type { ParallelOptions, ParallelResult };

export async function trainInWorkers(jobs: AnyJob[], options: ParallelOptions = {}): Promise<ParallelResult> {
  const results: (TrainJobResult | undefined)[] = jobs.map(() => undefined);
  const lines = jobs.map((job) => `${job.name}: waiting`);
  const display = options.progress ?? true ? new LiveDisplay() : undefined;
  const title = `${options.title ?? "trainInWorkers"}: ${jobs.length} runs one after another (the page's worker has one engine)`;
  const show = () => display?.update(`<pre style="margin:0">${[title, ...lines].map(escapeHtml).join("\n")}</pre>`, [title, ...lines].join(" | "));
  const stop = await StopRequest.listen();
  const start = performance.now();
  try {
    for (const [k, job] of jobs.entries()) {
      if (stop.requested) break;
      let shown = 0;
      const result = await runAnyJob(job, (info) => {
        if (performance.now() - shown < 500) return;
        shown = performance.now();
        lines[k] = `${job.name}: step ${info.step.toLocaleString("en")}/${job.steps.toLocaleString("en")} | loss ${info.loss.toFixed(4)}`;
        void show();
      });
      if (stop.requested) { lines[k] = `${job.name}: stopped, no result`; break; }
      results[k] = result;
      lines[k] = `${job.name}: ${job.steps.toLocaleString("en")} steps in ${result.seconds.toFixed(0)} s`;
      await show();
    }
  } finally {
    stop.close();
  }
  await show();
  return { results, workers: 1, stopped: stop.requested, seconds: (performance.now() - start) / 1000 };
}
