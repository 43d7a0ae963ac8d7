// Every kind of job `trainInWorkers` takes, and the one function that runs any of them in this thread
// (a Node worker does, and so does the browser build, one job after another).
import type { ProgressInfo } from "../display/progress";
import { runJob, type TrainJob, type TrainJobResult } from "./parallel-jobs";
import { isTextJob, runTextJob, type TextTrainJob } from "./text-jobs";

/** A job on a Dataset (lectures 03, 04, 07) or on a stream of tokens (lecture 05's ladder). */
export type AnyJob = TrainJob | TextTrainJob;

export function runAnyJob(job: AnyJob, onProgress?: (info: ProgressInfo) => void): Promise<TrainJobResult> {
  return isTextJob(job) ? runTextJob(job, onProgress) : runJob(job, onProgress);
}
