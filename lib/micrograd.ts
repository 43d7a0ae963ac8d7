// micrograd in TypeScript: a scalar-valued autograd engine and a tiny neural-network library on top.
// After Andrej Karpathy's micrograd (engine.py and nn.py).
import { Generator } from "./random";

// ---------------------------------------------------------------------------------------------------
// The engine: a Value is one number in a computation graph, plus the gradient of the output w.r.t. it.

/** Anything an operation accepts: a Value, or a plain number (wrapped into a constant Value). */
export type Operand = Value | number;

const asValue = (x: Operand): Value => (x instanceof Value ? x : new Value(x));

export class Value {
  data: number;
  /** d(output)/d(this), filled in by `backward()`. Starts at 0: "no effect on the output yet". */
  grad = 0;
  label: string;
  /** The Values this one was computed from (micrograd's `_prev`). */
  readonly children: Value[];
  /** The operation that produced this Value ("" for a leaf), shown in the graph drawing. */
  readonly op: string;
  /** Pushes this Value's grad into its children's grads (the chain rule for one op). Leaves do nothing. */
  _backward: () => void = () => {};

  constructor(data: number, label = "", children: Value[] = [], op = "") {
    this.data = data;
    this.label = label;
    this.children = children;
    this.op = op;
  }

  add(other: Operand): Value {
    const that = asValue(other);
    const out = new Value(this.data + that.data, "", [this, that], "+");
    out._backward = () => {
      // d(a + b)/da = 1: a sum routes its gradient unchanged to both inputs.
      this.grad += out.grad;
      that.grad += out.grad;
    };
    return out;
  }

  mul(other: Operand): Value {
    const that = asValue(other);
    const out = new Value(this.data * that.data, "", [this, that], "*");
    out._backward = () => {
      // d(a * b)/da = b: each input gets the gradient scaled by the *other* input.
      this.grad += that.data * out.grad;
      that.grad += this.data * out.grad;
    };
    return out;
  }

  /** this ** exponent, for a constant exponent (so only the base needs a gradient). */
  pow(exponent: number): Value {
    const out = new Value(this.data ** exponent, "", [this], `**${exponent}`);
    out._backward = () => {
      // The power rule: d(x^n)/dx = n * x^(n-1).
      this.grad += exponent * this.data ** (exponent - 1) * out.grad;
    };
    return out;
  }

  exp(): Value {
    const out = new Value(Math.exp(this.data), "", [this], "exp");
    out._backward = () => {
      // d(e^x)/dx = e^x, which we already computed: it is out.data.
      this.grad += out.data * out.grad;
    };
    return out;
  }

  tanh(): Value {
    const t = Math.tanh(this.data);
    const out = new Value(t, "", [this], "tanh");
    out._backward = () => {
      // d(tanh x)/dx = 1 - tanh(x)^2.
      this.grad += (1 - t * t) * out.grad;
    };
    return out;
  }

  relu(): Value {
    const out = new Value(Math.max(0, this.data), "", [this], "relu");
    out._backward = () => {
      // The gradient passes where the input was positive and is blocked elsewhere.
      this.grad += (out.data > 0 ? 1 : 0) * out.grad;
    };
    return out;
  }

  // The remaining ops are built from the ones above, so they need no backward of their own.
  neg(): Value {
    return this.mul(-1);
  }

  sub(other: Operand): Value {
    return this.add(asValue(other).neg());
  }

  div(other: Operand): Value {
    return this.mul(asValue(other).pow(-1));
  }

  /** Adds up Values (Python's `sum(...)`); the sum of nothing is a constant 0. */
  static sum(values: Value[]): Value {
    return values.length === 0 ? new Value(0) : values.reduce((total, v) => total.add(v));
  }

  /** Fills in `grad` of every Value this one depends on: d(this)/d(node). */
  backward(): void {
    // Each node's _backward needs its own grad to be complete, i.e. every node that uses it must have
    // pushed its share first. Reversed topological order guarantees that.
    const order = topologicalOrder(this);
    this.grad = 1; // d(this)/d(this)
    for (const node of order.reverse()) node._backward();
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

/** All Values that `root` depends on (itself included), each one placed after all of its children. */
export function topologicalOrder(root: Value): Value[] {
  const order: Value[] = [];
  const visited = new Set<Value>();
  const visit = (node: Value) => {
    if (visited.has(node)) return; // a reused node is listed once
    visited.add(node);
    for (const child of node.children) visit(child);
    order.push(node); // only after all its children are in
  };
  visit(root);
  return order;
}

// ---------------------------------------------------------------------------------------------------
// The neural-network library: Neuron, Layer, MLP. Initial weights come from a seeded Generator
// (lib/random.ts), so the same seed gives the same network.

const uniform = (random: Generator, low: number, high: number) => low + (high - low) * random.random();

/** The nonlinearity applied to a neuron's weighted sum; "linear" means none. */
export type Activation = "tanh" | "relu" | "linear";

export abstract class Module {
  abstract parameters(): Value[];

  /** Gradients accumulate (+=), so reset them before each backward pass. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }
}

export class Neuron extends Module {
  readonly weights: Value[];
  readonly bias: Value;

  constructor(nin: number, readonly activation: Activation = "tanh", random: Generator = new Generator(42)) {
    super();
    this.weights = Array.from({ length: nin }, () => new Value(uniform(random, -1, 1)));
    this.bias = new Value(uniform(random, -1, 1));
  }

  /** activation(w · x + b) */
  forward(x: Operand[]): Value {
    const weightedSum = this.weights.reduce((sum, w, i) => sum.add(w.mul(x[i])), this.bias);
    if (this.activation === "tanh") return weightedSum.tanh();
    if (this.activation === "relu") return weightedSum.relu();
    return weightedSum;
  }

  parameters(): Value[] {
    return [...this.weights, this.bias];
  }
}

/** `nout` neurons that all see the same inputs. */
export class Layer extends Module {
  readonly neurons: Neuron[];

  constructor(nin: number, nout: number, activation: Activation = "tanh", random: Generator = new Generator(42)) {
    super();
    this.neurons = Array.from({ length: nout }, () => new Neuron(nin, activation, random));
  }

  forward(x: Operand[]): Value[] {
    return this.neurons.map((neuron) => neuron.forward(x));
  }

  parameters(): Value[] {
    return this.neurons.flatMap((neuron) => neuron.parameters());
  }
}

export interface MLPOptions {
  /** Nonlinearity of the hidden layers. Default "tanh", as in the lecture. */
  activation?: Activation;
  /** Nonlinearity of the last layer. Default: same as `activation` (the lecture's all-tanh MLP);
   *  micrograd's demo uses "relu" hidden layers and a "linear" output. */
  outputActivation?: Activation;
  /** Source of the uniform(-1, 1) initial weights, seeded so runs repeat. Default: `new Generator(42)`. */
  random?: Generator;
}

/** A multi-layer perceptron: layers of sizes `nouts`, each feeding the next. */
export class MLP extends Module {
  readonly layers: Layer[];

  constructor(nin: number, nouts: number[], options: MLPOptions = {}) {
    super();
    const { activation = "tanh", outputActivation = activation, random = new Generator(42) } = options;
    const sizes = [nin, ...nouts];
    this.layers = nouts.map((nout, i) => {
      const isLast = i === nouts.length - 1;
      return new Layer(sizes[i], nout, isLast ? outputActivation : activation, random);
    });
  }

  forward(x: Operand[]): Value[] {
    let activations: Operand[] = x;
    for (const layer of this.layers) activations = layer.forward(activations);
    return activations as Value[];
  }

  parameters(): Value[] {
    return this.layers.flatMap((layer) => layer.parameters());
  }
}

// ---------------------------------------------------------------------------------------------------
// For micrograd's demo: a two-moons data set and the max-margin (hinge) loss.

/**
 * Two interleaving half circles in 2-D (like scikit-learn's make_moons), shuffled.
 * The upper moon has label -1 and the lower one +1; `noise` is the standard deviation of the Gaussian
 * noise added to each coordinate.
 */
export function makeMoons(
  n: number,
  noise = 0.1,
  random: Generator = new Generator(42),
): { xs: number[][]; ys: number[] } {
  const nUpper = Math.floor(n / 2);
  const nLower = n - nUpper;
  const points: { x: number[]; y: number }[] = [];
  for (let i = 0; i < nUpper; i++) {
    const angle = (Math.PI * i) / Math.max(nUpper - 1, 1);
    points.push({ x: [Math.cos(angle), Math.sin(angle)], y: -1 });
  }
  for (let i = 0; i < nLower; i++) {
    const angle = (Math.PI * i) / Math.max(nLower - 1, 1);
    points.push({ x: [1 - Math.cos(angle), 0.5 - Math.sin(angle)], y: 1 });
  }
  for (const p of points) p.x = p.x.map((c) => c + noise * random.normal());
  random.shuffle(points); // so the two classes are mixed in any slice of the data
  return { xs: points.map((p) => p.x), ys: points.map((p) => p.y) };
}

/**
 * The SVM's max-margin loss, averaged: mean of relu(1 - label * score) for labels -1/+1.
 * A point costs nothing once it is on the right side with a margin of at least 1.
 */
export function hingeLoss(scores: Value[], labels: number[]): Value {
  const losses = scores.map((score, i) => score.mul(-labels[i]).add(1).relu());
  return Value.sum(losses).mul(1 / losses.length);
}
