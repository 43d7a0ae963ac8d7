// Lecture 05's GPT: a decoder-only Transformer ("Attention Is All You Need", the right half of its
// figure without the cross-attention), built as in the lecture and nanoGPT's model.py. Each class is
// one box of the paper's figure:
//
//   GPT:   token embedding + position embedding -> nLayer x Block -> LayerNorm -> lmHead (logits)
//   Block: x + MultiHeadAttention(LayerNorm(x)), then x + FeedForward(LayerNorm(x))
//   MultiHeadAttention: nHead causal self-attention Heads side by side, joined by a projection
//   Head:  softmax(Q K^T / sqrt(headSize)), masked to the past, applied to V
//
// B is the batch, T the time (positions, at most blockSize), C the channels (nEmbd), V the vocabulary.
import * as tf from "@tensorflow/tfjs";
import { fusedLayerNorm, fusedMaskedSoftmax } from "./engine";
import { Linear } from "./layers";
import { crossEntropy } from "./losses";
import { countParameters, type ForwardOptions, type LanguageModel, type ModelOutput } from "./model";
import { Generator } from "./random";

export interface GPTConfig {
  vocabSize: number;
  /** The longest context the model reads: the number of position embeddings. */
  blockSize: number;
  /** Channels: the size of every token's vector in the residual stream. */
  nEmbd: number;
  /** Attention heads per block; each reads nEmbd / nHead channels. */
  nHead: number;
  /** Blocks (layers). */
  nLayer: number;
  /** Probability of zeroing an activation while training (0 turns dropout off). */
  dropout: number;
}

/** Throws a clear error for a config no GPT can be built from. */
export function checkGPTConfig(config: GPTConfig): void {
  for (const key of ["vocabSize", "blockSize", "nEmbd", "nHead", "nLayer"] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new Error(`GPTConfig: ${key} must be an integer >= 1 (got ${value}).`);
  }
  const { nEmbd, nHead, dropout } = config;
  if (nEmbd % nHead !== 0) {
    throw new Error(`GPTConfig: nEmbd (${nEmbd}) must be divisible by nHead (${nHead}): each head reads nEmbd / nHead channels.`);
  }
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`GPTConfig: dropout must be in [0, 1) (got ${dropout}).`);
}

/** The initial weights: normal with standard deviation 0.02, as GPT-2 (the lecture's _init_weights). */
const INIT_STD = 0.02;

function normalVariable(generator: Generator, shape: number[], std: number): tf.Variable {
  return tf.tidy(() => tf.variable(generator.randn(shape).mul(std)));
}

/** Zeroes a fraction `rate` of x and scales the rest by 1 / (1 - rate), only while training. */
function dropout(x: tf.Tensor, rate: number, options: ForwardOptions, generator: Generator): tf.Tensor {
  if (!options.training || rate === 0) return x;
  // A seed drawn from the model's generator: the same seed gives the same masks on every run.
  return tf.dropout(x, rate, undefined, generator.integer(2 ** 31));
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

/**
 * lecture 04's Linear (lib/layers.ts) with GPT-2's initialisation: weights drawn with std 0.02 (not
 * 1 / sqrt(fanIn)), biases at 0. Its output is not kept for diagnostics (`keepOut`): it is large.
 */
function linear(fanIn: number, fanOut: number, generator: Generator, options: { bias?: boolean; std?: number } = {}): Linear {
  const layer = new Linear(fanIn, fanOut, { generator: generator, bias: options.bias, std: options.std ?? INIT_STD });
  layer.keepOut = false;
  return layer;
}

/**
 * GPT-2 scales the initial weights of the layers that add into the residual stream (each sublayer's
 * last projection) by 1 / sqrt(2 * nLayer): 2 * nLayer of them add up, and the stream's variance
 * should not grow with depth.
 */
function residualStd(nLayer: number): number {
  return INIT_STD / Math.sqrt(2 * nLayer);
}

/**
 * LayerNorm (Ba et al. 2016) over the channels of each token: y = (x - mean) / sqrt(var + eps) * gamma + beta.
 * Unlike BatchNorm (lecture 04) it normalises each row on its own, so it needs no running statistics
 * and behaves the same in training and evaluation.
 */
export class LayerNorm {
  readonly gamma: tf.Variable; // [C], starts at 1
  readonly beta: tf.Variable; // [C], starts at 0

  constructor(readonly size: number, readonly eps = 1e-5) {
    this.gamma = tf.tidy(() => tf.variable(tf.ones([size])));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([size])));
  }

  forward(x: tf.Tensor): tf.Tensor {
    // The same formula as one kernel each way, where the engine has it (engine/fused-ops.ts).
    const fused = fusedLayerNorm(x, this.gamma, this.beta, this.eps);
    if (fused) return fused;
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1] each; the biased variance, as PyTorch
    return x.sub(mean).div(variance.add(this.eps).sqrt()).mul(this.gamma).add(this.beta); // [..., C]
  }

  namedParameters(prefix: string): [string, tf.Variable][] {
    return [[`${prefix}.weight`, this.gamma], [`${prefix}.bias`, this.beta]];
  }
}

/**
 * The causal mask as numbers to add before softmax: 0 where position t may look (s <= t), -Infinity
 * where it may not (the future), so softmax gives the future exactly 0 weight. [T, T]
 */
export function causalMask(T: number): tf.Tensor2D {
  return tf.tidy(() => {
    const lowerTriangle = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // 1 on and below the diagonal
    return tf.where(lowerTriangle.equal(1), tf.zeros([T, T]), tf.fill([T, T], -Infinity)) as tf.Tensor2D;
  });
}

/**
 * Scaled dot-product attention with the causal mask, for queries, keys and values [..., T, headSize]:
 * softmax(Q K^T / sqrt(headSize) + mask) V. Dividing by sqrt(headSize) keeps the scores' variance
 * near 1 whatever the head size: larger scores would make softmax nearly one-hot at initialisation,
 * each token attending to a single other one. Returns the output [..., T, headSize] and the weights [..., T, T].
 */
function attend(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor,
  dropWeights: (weights: tf.Tensor) => tf.Tensor = (weights) => weights,
): { out: tf.Tensor; weights: tf.Tensor } {
  const headSize = q.shape[q.rank - 1];
  const products = tf.matMul(q, k, false, true); // [..., T, T]: how much t wants s
  // softmax(scores + mask) with scores = products / sqrt(headSize): one kernel each way where the engine has it.
  const weights =
    fusedMaskedSoftmax(products, headSize ** -0.5, mask) ?? tf.softmax(products.mul(headSize ** -0.5).add(mask)); // [..., T, T]: each row sums to 1 over s <= t
  return { out: tf.matMul(dropWeights(weights), v), weights }; // [..., T, headSize]
}

/** The mask [T, T] for T positions, cut from the model's [blockSize, blockSize] one. */
function maskFor(fullMask: tf.Tensor2D, T: number): tf.Tensor {
  return T === fullMask.shape[0] ? fullMask : fullMask.slice([0, 0], [T, T]);
}

/**
 * One head of causal self-attention. Every token emits a query ("what I look for"), a key ("what I
 * hold") and a value ("what I pass on"); q . k says how much a token attends to an earlier one.
 */
export class Head {
  readonly key: Linear;
  readonly query: Linear;
  readonly value: Linear;
  private readonly mask: tf.Tensor2D;

  constructor(nEmbd: number, readonly headSize: number, blockSize: number, generator: Generator) {
    this.key = linear(nEmbd, headSize, generator, { bias: false });
    this.query = linear(nEmbd, headSize, generator, { bias: false });
    this.value = linear(nEmbd, headSize, generator, { bias: false });
    this.mask = causalMask(blockSize);
  }

  /** x [B, T, C] -> [B, T, headSize]; the attention weights [B, T, T] too. */
  forwardWithWeights(x: tf.Tensor): { out: tf.Tensor; weights: tf.Tensor } {
    const k = this.key.forward(x); // [B, T, headSize]
    const q = this.query.forward(x); // [B, T, headSize]
    const v = this.value.forward(x); // [B, T, headSize]
    return attend(q, k, v, maskFor(this.mask, x.shape[1] ?? 0));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardWithWeights(x).out;
  }

  parameters(): tf.Variable[] {
    return [this.key.weight, this.query.weight, this.value.weight];
  }

  dispose(): void {
    tf.dispose([...this.parameters(), this.mask]);
  }
}

/**
 * nHead heads of self-attention in parallel, their outputs concatenated and projected back into the
 * residual stream. The heads' key (query, value) matrices sit side by side in one [C, C] matrix:
 * head h owns columns h * headSize .. (h + 1) * headSize. That computes exactly what nHead separate
 * Heads followed by a concatenation compute (the tests check it), in 3 matmuls instead of 3 * nHead.
 */
export class MultiHeadAttention {
  readonly headSize: number;
  readonly key: Linear; // [C, nHead * headSize]
  readonly query: Linear;
  readonly value: Linear;
  /** Mixes the heads' outputs and brings them back into the residual stream. */
  readonly proj: Linear;
  /** Keep the attention weights of the next forward passes in `weights` (as a layer's `out` in lecture 04). */
  keepWeights = false;
  /** The attention weights [B, nHead, T, T] of the last forward pass, when `keepWeights` is on (freed by the next). */
  weights?: tf.Tensor;
  private readonly mask: tf.Tensor2D;

  constructor(private readonly config: GPTConfig, private readonly generator: Generator) {
    const { nEmbd, nHead, nLayer, blockSize } = config;
    this.headSize = nEmbd / nHead;
    this.key = linear(nEmbd, nEmbd, generator, { bias: false });
    this.query = linear(nEmbd, nEmbd, generator, { bias: false });
    this.value = linear(nEmbd, nEmbd, generator, { bias: false });
    this.proj = linear(nEmbd, nEmbd, generator, { std: residualStd(nLayer) }); // adds into the residual stream
    this.mask = causalMask(blockSize);
  }

  /** x [B, T, C] -> [B, T, C]. */
  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    const [B, T, C] = x.shape;
    const { nHead } = this.config;
    // [B, T, C] -> [B, nHead, T, headSize]: the heads become a batch dimension.
    const heads = (y: tf.Tensor) => y.reshape([B, T, nHead, this.headSize]).transpose([0, 2, 1, 3]);
    const k = heads(this.key.forward(x)); // [B, nHead, T, headSize]
    const q = heads(this.query.forward(x)); // [B, nHead, T, headSize]
    const v = heads(this.value.forward(x)); // [B, nHead, T, headSize]
    // Dropout on the weights while training drops some of the links between tokens (the lecture's Head).
    const dropWeights = (w: tf.Tensor) => dropout(w, this.config.dropout, options, this.generator);
    const { out, weights } = attend(q, k, v, maskFor(this.mask, T), dropWeights); // [B, nHead, T, headSize]
    if (this.keepWeights) {
      this.weights?.dispose();
      this.weights = tf.keep(weights);
    }
    const joined = out.transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B, T, C]: the heads side by side
    return dropout(this.proj.forward(joined), this.config.dropout, options, this.generator); // [B, T, C]
  }

  namedParameters(prefix: string): [string, tf.Variable][] {
    return [
      ...this.key.namedParameters(`${prefix}.key`),
      ...this.query.namedParameters(`${prefix}.query`),
      ...this.value.namedParameters(`${prefix}.value`),
      ...this.proj.namedParameters(`${prefix}.proj`),
    ];
  }

  dispose(): void {
    this.weights?.dispose();
    this.weights = undefined;
    this.mask.dispose();
  }
}

/**
 * The per-token computation after attention has gathered information: a two-layer MLP, 4x wider
 * inside (as in the paper), applied to every position on its own.
 */
export class FeedForward {
  readonly expand: Linear; // [C, 4C]
  readonly proj: Linear; // [4C, C]

  constructor(private readonly config: GPTConfig, private readonly generator: Generator) {
    const { nEmbd, nLayer } = config;
    this.expand = linear(nEmbd, 4 * nEmbd, generator);
    this.proj = linear(4 * nEmbd, nEmbd, generator, { std: residualStd(nLayer) }); // adds into the residual stream
  }

  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    const hidden = tf.relu(this.expand.forward(x)); // [B, T, 4C]
    return dropout(this.proj.forward(hidden), this.config.dropout, options, this.generator); // [B, T, C]
  }

  namedParameters(prefix: string): [string, tf.Variable][] {
    return [...this.expand.namedParameters(`${prefix}.expand`), ...this.proj.namedParameters(`${prefix}.proj`)];
  }
}

/**
 * One Transformer block: communication (attention across tokens) then computation (the feed-forward
 * layer on each token). Each adds into the residual stream x instead of replacing it: gradients flow
 * straight down the additions to the first layers, so a deep stack still trains. LayerNorm comes
 * before each sublayer (pre-norm, as GPT-2), not after as in the original paper.
 */
export class Block {
  readonly ln1: LayerNorm;
  readonly attention: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly feedForward: FeedForward;

  constructor(config: GPTConfig, generator: Generator) {
    this.ln1 = new LayerNorm(config.nEmbd);
    this.attention = new MultiHeadAttention(config, generator);
    this.ln2 = new LayerNorm(config.nEmbd);
    this.feedForward = new FeedForward(config, generator);
  }

  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    const afterAttention = x.add(this.attention.forward(this.ln1.forward(x), options)); // [B, T, C]
    return afterAttention.add(this.feedForward.forward(this.ln2.forward(afterAttention), options)); // [B, T, C]
  }

  namedParameters(prefix: string): [string, tf.Variable][] {
    return [
      ...this.ln1.namedParameters(`${prefix}.ln1`),
      ...this.attention.namedParameters(`${prefix}.attention`),
      ...this.ln2.namedParameters(`${prefix}.ln2`),
      ...this.feedForward.namedParameters(`${prefix}.feedForward`),
    ];
  }
}

// ---------------------------------------------------------------------------------------------------
// The model

export class GPT implements LanguageModel {
  readonly config: GPTConfig;
  /** Row i is token i's vector: what the token is. [V, C] */
  readonly tokenEmbedding: tf.Variable;
  /** Row t is position t's vector: where the token is (attention by itself is blind to order). [blockSize, C] */
  readonly positionEmbedding: tf.Variable;
  readonly blocks: Block[];
  readonly lnFinal: LayerNorm;
  /** Reads the next token's logits off each position's final vector. [C, V] */
  readonly lmHead: Linear;
  private readonly generator: Generator;

  /** `generator` draws the initial weights and, while training with dropout > 0, the dropout masks. */
  constructor(config: GPTConfig, generator: Generator) {
    checkGPTConfig(config);
    this.config = { ...config };
    this.generator = generator;
    const { vocabSize, blockSize, nEmbd, nLayer } = config;
    this.tokenEmbedding = normalVariable(generator, [vocabSize, nEmbd], INIT_STD);
    this.positionEmbedding = normalVariable(generator, [blockSize, nEmbd], INIT_STD);
    this.blocks = Array.from({ length: nLayer }, () => new Block(this.config, generator));
    this.lnFinal = new LayerNorm(nEmbd);
    this.lmHead = linear(nEmbd, vocabSize, generator);
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  /** idx [B, T] int32 (T <= blockSize) -> logits [B, T, V]; with targets [B, T], also the mean loss. */
  forward(idx: tf.Tensor, targets?: tf.Tensor, options: ForwardOptions = {}): ModelOutput {
    return tf.tidy(() => {
      const logits = this.run(idx, options);
      return targets ? { logits, loss: crossEntropy(logits, targets) } : { logits };
    });
  }

  /**
   * The attention weights of every head in every block for `idx` [B, T], one tensor [B, nHead, T, T]
   * per block (evaluation mode): row t says how much position t looks at each position s <= t.
   * The caller disposes them.
   */
  attentionWeights(idx: tf.Tensor): tf.Tensor[] {
    const attentions = this.blocks.map((block) => block.attention);
    for (const attention of attentions) attention.keepWeights = true;
    try {
      tf.tidy(() => {
        this.run(idx, { training: false });
      });
    } finally {
      for (const attention of attentions) attention.keepWeights = false;
    }
    return attentions.map((attention) => {
      const weights = attention.weights!;
      attention.weights = undefined; // the caller's now
      return weights;
    });
  }

  private run(idx: tf.Tensor, options: ForwardOptions): tf.Tensor {
    const { blockSize, nEmbd } = this.config;
    if (idx.rank !== 2 || idx.dtype !== "int32") throw new Error(`GPT.forward: idx must be int32 of shape [B, T] (got ${idx.dtype} [${idx.shape}]).`);
    const T = idx.shape[1] ?? 0;
    if (T < 1 || T > blockSize) {
      throw new Error(`GPT.forward: the context has ${T} tokens but the model reads 1 to blockSize ${blockSize}: crop it to the last ${blockSize}.`);
    }
    const tokens = tf.gather(this.tokenEmbedding, idx); // [B, T, C]
    const positions = T === blockSize ? this.positionEmbedding : this.positionEmbedding.slice([0, 0], [T, nEmbd]); // [T, C]
    let x = tokens.add(positions); // [B, T, C]: broadcast over the batch
    for (const block of this.blocks) x = block.forward(x, options); // [B, T, C]
    return this.lmHead.forward(this.lnFinal.forward(x)); // [B, T, V]
  }

  /** Every parameter with a name that says where it sits, e.g. "blocks.0.attention.query.weight". */
  namedParameters(): [string, tf.Variable][] {
    return [
      ["tokenEmbedding", this.tokenEmbedding],
      ["positionEmbedding", this.positionEmbedding],
      ...this.blocks.flatMap((block, i) => block.namedParameters(`blocks.${i}`)),
      ...this.lnFinal.namedParameters("lnFinal"),
      ...this.lmHead.namedParameters("lmHead"),
    ];
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, p]) => p);
  }

  numParameters(): number {
    return countParameters(this);
  }

  dispose(): void {
    tf.dispose(this.parameters());
    for (const block of this.blocks) block.attention.dispose();
  }
}

/** Floating-point operations of one training step (forward and backward, about 3x the forward), for estimates. */
export function gptTrainingFlops(config: GPTConfig, batchSize: number): number {
  const { vocabSize, blockSize: T, nEmbd: C, nLayer } = config;
  const tokens = batchSize * T;
  // Per token, forward: 2 flops per weight of each matmul (q, k, v, proj: 4C^2; feed-forward: 8C^2; head: CV),
  // plus attention's two [T, T] products (2 * 2 * T * C per token per layer).
  const perTokenForward = 2 * (nLayer * 12 * C * C + C * vocabSize) + nLayer * 4 * T * C;
  return 3 * tokens * perTokenForward;
}
