// The training step of lecture 05's GPT at the nanoGPT CPU recipe's shapes (vocab 65, block 64, batch 12,
// 4 layers, 4 heads, nEmbd 128, dropout 0, AdamW), written compactly here so the engine can be measured
// without the lecture's model class: token + position embedding, pre-LayerNorm blocks with causal
// multi-head attention and a 4x ReLU MLP, a final LayerNorm and the language-model head.
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "../lib/losses";
import { Generator } from "../lib/random";

export interface GPTShape {
  vocabSize: number;
  blockSize: number;
  batchSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

export const NANOGPT_CPU_RECIPE: GPTShape = { vocabSize: 65, blockSize: 64, batchSize: 12, nLayer: 4, nHead: 4, nEmbd: 128 };

interface Block {
  ln1Gain: tf.Variable; ln1Bias: tf.Variable;
  attention: tf.Variable; // [C, 3C]: query, key and value side by side (no bias, as in the lecture)
  projection: tf.Variable; projectionBias: tf.Variable;
  ln2Gain: tf.Variable; ln2Bias: tf.Variable;
  hidden: tf.Variable; hiddenBias: tf.Variable; // [C, 4C]
  output: tf.Variable; outputBias: tf.Variable; // [4C, C]
}

export class BenchGPT {
  readonly tokenEmbedding: tf.Variable;
  readonly positionEmbedding: tf.Variable;
  readonly blocks: Block[];
  readonly finalGain: tf.Variable;
  readonly finalBias: tf.Variable;
  readonly head: tf.Variable;
  readonly headBias: tf.Variable;
  private readonly mask: tf.Tensor; // [T, T]: 0 on and below the diagonal, -1e9 above (the future)

  constructor(readonly shape: GPTShape, random: Generator) {
    const { vocabSize: V, blockSize: T, nEmbd: C } = shape;
    const normal = (dims: number[], std = 0.02) => tf.variable(random.randn(dims).mul(std));
    const filled = (dims: number[], value: number) => tf.variable(tf.fill(dims, value));
    this.tokenEmbedding = normal([V, C]);
    this.positionEmbedding = normal([T, C]);
    this.blocks = Array.from({ length: shape.nLayer }, () => ({
      ln1Gain: filled([C], 1), ln1Bias: filled([C], 0),
      attention: normal([C, 3 * C]),
      projection: normal([C, C]), projectionBias: filled([C], 0),
      ln2Gain: filled([C], 1), ln2Bias: filled([C], 0),
      hidden: normal([C, 4 * C]), hiddenBias: filled([4 * C], 0),
      output: normal([4 * C, C]), outputBias: filled([C], 0),
    }));
    this.finalGain = filled([C], 1);
    this.finalBias = filled([C], 0);
    this.head = normal([C, V]);
    this.headBias = filled([V], 0);
    this.mask = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9));
  }

  parameters(): tf.Variable[] {
    const blockParameters = this.blocks.flatMap((b) => Object.values(b) as tf.Variable[]);
    return [this.tokenEmbedding, this.positionEmbedding, ...blockParameters, this.finalGain, this.finalBias, this.head, this.headBias];
  }

  /** Mean cross-entropy of the next-token predictions for inputs [B, T] against targets [B, T]. */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    const [B, T] = inputs.shape;
    const { nHead, nEmbd: C } = this.shape;
    const headSize = C / nHead;
    const rows = (x: tf.Tensor) => x.reshape([B * T, -1]) as tf.Tensor2D;
    const heads = (x: tf.Tensor) => x.reshape([B, T, nHead, headSize]).transpose([0, 2, 1, 3]); // [B, H, T, hs]
    let x = tf.gather(this.tokenEmbedding, inputs).add(this.positionEmbedding.slice([0, 0], [T, C])); // [B, T, C]
    for (const b of this.blocks) {
      const h = rows(layerNorm(x, b.ln1Gain, b.ln1Bias)); // [B*T, C]
      const [q, k, v] = tf.split(tf.matMul(h, b.attention), 3, 1).map(heads); // [B, H, T, hs] each
      const scores = tf.matMul(q, k, false, true).mul(headSize ** -0.5).add(this.mask.slice([0, 0], [T, T])); // [B, H, T, T]
      const attended = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]); // [B, T, H, hs]
      x = x.add(tf.matMul(rows(attended), b.projection).add(b.projectionBias).reshape([B, T, C]));
      const h2 = rows(layerNorm(x, b.ln2Gain, b.ln2Bias));
      const hidden = tf.relu(tf.matMul(h2, b.hidden).add(b.hiddenBias)); // [B*T, 4C]
      x = x.add(tf.matMul(hidden, b.output).add(b.outputBias).reshape([B, T, C]));
    }
    const logits = tf.matMul(rows(layerNorm(x, this.finalGain, this.finalBias)), this.head).add(this.headBias); // [B*T, V]
    return crossEntropy(logits, targets.reshape([-1]));
  }

  dispose(): void {
    tf.dispose([...this.parameters(), this.mask]);
  }
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + 1e-5) * gain + bias. */
function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(gain).add(bias);
}

/** AdamW (decoupled weight decay), as nanoGPT trains: its moments live beside each parameter. */
export class BenchAdamW {
  private readonly moments: { m: tf.Variable; v: tf.Variable }[];
  private step = 0;

  constructor(private readonly parameters: tf.Variable[], private readonly learningRate = 1e-3, private readonly weightDecay = 0.1) {
    this.moments = parameters.map((p) => ({ m: tf.variable(tf.zerosLike(p)), v: tf.variable(tf.zerosLike(p)) }));
  }

  apply(grads: tf.NamedTensorMap): void {
    this.step++;
    const [beta1, beta2, epsilon] = [0.9, 0.95, 1e-8];
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      this.parameters.forEach((p, i) => {
        const g = grads[p.name];
        const { m, v } = this.moments[i];
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
        const update = m.div(correction1).div(v.div(correction2).sqrt().add(epsilon));
        // Decay on matrices and embeddings (rank >= 2) only, not on gains and biases, as nanoGPT does.
        const decay = p.rank >= 2 ? p.mul(this.weightDecay) : tf.scalar(0);
        p.assign(p.sub(update.add(decay).mul(this.learningRate)));
      });
    });
  }

  dispose(): void {
    tf.dispose(this.moments.flatMap(({ m, v }) => [m, v]));
  }
}

/** A model, its optimizer and a fixed batch of random tokens; `step()` runs one training step and returns the loss. */
export function gptTrainer(shape: GPTShape = NANOGPT_CPU_RECIPE, seed = 1337) {
  const random = new Generator(seed);
  const model = new BenchGPT(shape, random);
  const optimizer = new BenchAdamW(model.parameters());
  const tokens = () => Array.from({ length: shape.batchSize * shape.blockSize }, () => random.integer(shape.vocabSize));
  const inputs = tf.tensor2d(tokens(), [shape.batchSize, shape.blockSize], "int32");
  const targets = tf.tensor2d(tokens(), [shape.batchSize, shape.blockSize], "int32");
  const step = (): number =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets), model.parameters());
      optimizer.apply(grads);
      return value.dataSync()[0];
    });
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
    tf.dispose([inputs, targets]);
  };
  return { step, dispose, model };
}
