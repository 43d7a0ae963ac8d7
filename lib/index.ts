// The course's shared library, in lecture order: each notebook imports what it and the earlier
// lectures built. Lecture code sits at the top of lib/; plumbing sits apart, in engine/ (which
// TensorFlow.js backend runs, and its speed fixes), runtime/ (Jupyter's Stop, quick mode) and display/
// (plots, tables, progress, graphs).

// Plumbing: the engine, quick mode, and what shows things in a notebook.
export { initEngine, engineInfo, describeEngine, setFastPaths, type EngineInfo, type EngineName, type EngineOptions, type FastPaths } from "./engine";
export { isQuickMode, pick } from "./runtime/quick-mode";
export { trainInWorkers, type ParallelOptions, type ParallelResult } from "./runtime/parallel";
export { runJob, restoreJobModel, scheduleFunction, type TrainJob, type TrainJobResult, type JobSeed, type StepSchedule, type MLPModelSpec, type WaveNetModelSpec, type ModelSpec } from "./runtime/parallel-jobs";
export { runTextJob, type TextTrainJob, type LadderModelSpec } from "./runtime/text-jobs";
export * from "./display/display";
export * from "./display/plot";
export * from "./display/table";
export * from "./display/progress";

// Data, shared by every lecture.
export * from "./data";
export * from "./random";
export * from "./python-random";
export * from "./torch-random";
export * from "./tokenizer";

// 00 micrograd
export * from "./micrograd";
export * from "./display/graph";

// 01 bigram (counting) and 02 the bigram as a neural net
export * from "./bigram";
export * from "./bigram-net";
export * from "./losses";

// 03 MLP, and what every later model shares: one model interface, datasets, the training loop,
// optimizers, evaluation, generation
export * from "./model";
export * from "./dataset";
export * from "./mlp";
export * from "./optim";
export * from "./train";
export * from "./evaluate";
export * from "./generate";

// 04 activations, initialisation and BatchNorm: PyTorch-like layers, a deeper net, diagnostics
export * from "./layers";
// 07 WaveNet: the hierarchical model and its convolutional form
export * from "./wavenet";
export * from "./diagnostics";

// 05 GPT: text as one stream of tokens, GPT-2's tokenizer beside ours, AdamW's schedule, the
// Transformer, and checkpoints that let a notebook skip a long training
export * from "./text-batches";
export * from "./averaging";
export * from "./bpe";
export * from "./schedule";
export * from "./gpt";
export * from "./gpt-ladder";
export * from "./checkpoint";

// 06 backprop by hand: gradients held against autograd's, and a loop whose body the notebook writes
export * from "./backprop";
export * from "./step-loop";

// 08 the GPT tokenizer: byte-pair encoding trained from scratch (minbpe's shape), regex splitting,
// special tokens, GPT-4's tokenizer rebuilt from cl100k_base, and tokens drawn as coloured spans
export * from "./bpe-helpers";
export * from "./bpe-train";
export * from "./bpe-encode";
export * from "./bpe-tokenizer";
export * from "./bpe-basic";
export * from "./bpe-regex";
export * from "./gpt4-tokenizer";
export * from "./tokenizer-file";
export * from "./tokenizer-samples";
export * from "./display/tokens";
