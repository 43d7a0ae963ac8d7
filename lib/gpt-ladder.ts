// Lecture 05's ladder: the pieces of the Transformer added one at a time to a small model, each rung
// between the same token and position embeddings and lm_head. Notebook 05 writes these rungs itself;
// this is the same model as plain data can name it (`ladderModel("heads", ...)`), so that a worker
// thread can build and train a rung (trainInWorkers) with the same bits as the notebook's own classes.
//
//   bigram:       the embeddings straight into lm_head
//   head:         one self-attention head of size C
//   heads:        nHead heads of size C / nHead, concatenated
//   feed-forward: then Linear C -> C and ReLU on each token
//   blocks:       nLayer blocks x = x + sa(x); x = x + ffwd(x), with projections and the 4x feed-forward
//   layernorm:    nLayer Blocks (LayerNorm before each sublayer), then a final LayerNorm: the GPT
import * as tf from "@tensorflow/tfjs";
import { Block, FeedForward, Head, LayerNorm, MultiHeadAttention, type GPTConfig } from "./gpt";
import { crossEntropy } from "./losses";
import type { ForwardOptions, LanguageModel, ModelOutput } from "./model";
import { Generator } from "./random";
import { Embedding, Linear } from "./tensor-layers";

/** The rungs, in the lecture's order. */
export const LADDER_RUNGS = ["bigram", "head", "heads", "feed-forward", "blocks", "layernorm"] as const;
export type LadderRung = (typeof LADDER_RUNGS)[number];

/** The ladder's sizes: the GPT's, without dropout (the lecture's ladder has none). */
export type LadderConfig = Omit<GPTConfig, "dropout">;

/** What a rung puts between the embeddings and lm_head: x [B, T, C] -> [B, T, C]. */
interface LadderBody {
  forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor;
  parameters: tf.Variable[];
  /** Frees the parameters and the attention masks. */
  dispose(): void;
}

type Named = { namedParameters(prefix: string): [string, tf.Variable][] };
const parametersOf = (...parts: Named[]) => parts.flatMap((part) => part.namedParameters("").map(([, p]) => p));

/** Frees the blocks' parameters and their attention's mask. */
function disposeAttention(parameters: tf.Variable[], blocks: { attention: MultiHeadAttention }[]): void {
  tf.dispose(parameters);
  for (const block of blocks) block.attention.dispose();
}

/** The body of one rung, its weights drawn from `generator` in the order the notebook draws them. */
function ladderBody(rung: LadderRung, config: LadderConfig, generator: Generator): LadderBody {
  const { nEmbd, nHead, nLayer, blockSize } = config;
  const gptConfig: GPTConfig = { ...config, dropout: 0 };
  const heads = (count: number, size: number) => Array.from({ length: count }, () => new Head(nEmbd, size, blockSize, generator));
  const concatenated = (hs: Head[], x: tf.Tensor) => tf.concat(hs.map((h) => h.forward(x)), -1); // [B, T, C]
  const disposeHeads = (hs: Head[]) => () => hs.forEach((h) => h.dispose());
  switch (rung) {
    case "bigram":
      return { forward: (x) => x, parameters: [], dispose: () => undefined };
    case "head": {
      const one = heads(1, nEmbd);
      return { forward: (x) => one[0].forward(x), parameters: one[0].parameters(), dispose: disposeHeads(one) };
    }
    case "heads": {
      const four = heads(nHead, nEmbd / nHead);
      return { forward: (x) => concatenated(four, x), parameters: four.flatMap((h) => h.parameters()), dispose: disposeHeads(four) };
    }
    case "feed-forward": {
      const four = heads(nHead, nEmbd / nHead);
      const feedForward = new Linear(nEmbd, nEmbd, { generator: generator });
      feedForward.keepOut = false;
      return {
        forward: (x) => tf.relu(feedForward.forward(concatenated(four, x))), // [B, T, C]
        parameters: [...four.flatMap((h) => h.parameters()), ...feedForward.parameters()],
        dispose: () => {
          disposeHeads(four)();
          feedForward.dispose();
        },
      };
    }
    case "blocks": {
      const blocks = Array.from({ length: nLayer }, () => ({ attention: new MultiHeadAttention(gptConfig, generator), feedForward: new FeedForward(gptConfig, generator) }));
      const forward = (x: tf.Tensor, options: ForwardOptions) => blocks.reduce((h, b) => {
        const afterAttention = h.add(b.attention.forward(h, options)); // x = x + sa(x)
        return afterAttention.add(b.feedForward.forward(afterAttention, options)); // x = x + ffwd(x)
      }, x);
      const parameters = blocks.flatMap((b) => parametersOf(b.attention, b.feedForward));
      return { forward: forward, parameters: parameters, dispose: () => disposeAttention(parameters, blocks) };
    }
    case "layernorm": {
      const blocks = Array.from({ length: nLayer }, () => new Block(gptConfig, generator));
      const lnFinal = new LayerNorm(nEmbd);
      const parameters = parametersOf(...blocks, lnFinal);
      return { forward: (x, options) => lnFinal.forward(blocks.reduce((h, b) => b.forward(h, options), x)), parameters: parameters, dispose: () => disposeAttention(parameters, blocks) };
    }
    default:
      throw new Error(`ladderModel: unknown rung "${rung as string}"; use one of ${LADDER_RUNGS.join(", ")}.`);
  }
}

/** Token and position embeddings -> the rung's body -> lm_head. */
export class LadderLanguageModel implements LanguageModel {
  readonly blockSize: number;
  readonly tokenEmbedding: Embedding; // [V, C]
  readonly positionEmbedding: Embedding; // [blockSize, C]
  readonly lmHead: Linear; // [C, V]

  constructor(readonly rung: LadderRung, private readonly body: LadderBody, config: LadderConfig, generator: Generator) {
    this.blockSize = config.blockSize;
    this.tokenEmbedding = new Embedding(config.vocabSize, config.nEmbd, generator);
    this.positionEmbedding = new Embedding(config.blockSize, config.nEmbd, generator);
    this.lmHead = new Linear(config.nEmbd, config.vocabSize, { generator: generator });
    for (const layer of [this.tokenEmbedding, this.positionEmbedding, this.lmHead]) layer.keepOut = false;
  }

  /** idx [B, T] int32 -> logits [B, T, V]; with targets [B, T], also the mean loss. */
  forward(idx: tf.Tensor, targets?: tf.Tensor, options: ForwardOptions = {}): ModelOutput {
    return tf.tidy(() => {
      const positions = tf.range(0, idx.shape[1]!, 1, "int32"); // [T]
      const x = this.tokenEmbedding.forward(idx).add(this.positionEmbedding.forward(positions)); // [B, T, C]
      const logits = this.lmHead.forward(this.body.forward(x, options)); // [B, T, V]
      return targets ? { logits: logits, loss: crossEntropy(logits, targets) } : { logits: logits };
    });
  }

  parameters(): tf.Variable[] {
    return [this.tokenEmbedding, this.positionEmbedding, this.lmHead].flatMap((layer) => layer.parameters()).concat(this.body.parameters);
  }

  dispose(): void {
    for (const layer of [this.tokenEmbedding, this.positionEmbedding, this.lmHead]) layer.dispose();
    this.body.dispose();
  }
}

/**
 * One rung of the ladder, as notebook 05 builds it: the body's weights drawn from `bodyGenerator`,
 * then the embeddings' and lm_head's from `generator` (the notebook's Generator(1337) and Generator(1338)).
 */
export function ladderModel(rung: LadderRung, config: LadderConfig, bodyGenerator: Generator, generator: Generator): LadderLanguageModel {
  if (!LADDER_RUNGS.includes(rung)) throw new Error(`ladderModel: unknown rung "${rung}"; use one of ${LADDER_RUNGS.join(", ")}.`);
  if (config.nEmbd % config.nHead !== 0) throw new Error(`ladderModel: nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead}).`);
  return new LadderLanguageModel(rung, ladderBody(rung, config, bodyGenerator), config, generator);
}
