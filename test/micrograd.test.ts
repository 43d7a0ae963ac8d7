import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  MLP,
  Neuron,
  Value,
  hingeLoss,
  makeMoons,
  topologicalOrder,
} from "../lib/micrograd";
import { Generator } from "../lib/random";
import { drawGraph, graphDot, graphHtml } from "../lib/display/graph";

const random = new Generator(1234);
const uniform = (low: number, high: number) => low + (high - low) * random.random();

function assertClose(actual: number, expected: number, tolerance: number, what: string) {
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tolerance * scale,
    `${what}: got ${actual}, expected ${expected} (tolerance ${tolerance})`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Each op against central finite differences.

type Op = { name: string; f: (a: Value, b: Value) => Value; domain: [number, number] };
const ops: Op[] = [
  { name: "add", f: (a, b) => a.add(b), domain: [-3, 3] },
  { name: "mul", f: (a, b) => a.mul(b), domain: [-3, 3] },
  { name: "sub", f: (a, b) => a.sub(b), domain: [-3, 3] },
  { name: "div", f: (a, b) => a.div(b), domain: [0.5, 3] }, // keep the divisor away from 0
  { name: "pow 3", f: (a) => a.pow(3), domain: [-2, 2] },
  { name: "pow -1.5", f: (a) => a.pow(-1.5), domain: [0.5, 3] },
  { name: "neg", f: (a) => a.neg(), domain: [-3, 3] },
  { name: "exp", f: (a) => a.exp(), domain: [-3, 3] },
  { name: "tanh", f: (a) => a.tanh(), domain: [-3, 3] },
  { name: "relu", f: (a) => a.relu(), domain: [-3, 3] },
  { name: "number operand", f: (a) => a.mul(2.5).add(-1).div(4).sub(0.5), domain: [-3, 3] },
];

for (const op of ops) {
  test(`${op.name}: gradient matches central finite differences`, () => {
    const h = 1e-6;
    for (let trial = 0; trial < 20; trial++) {
      const [a0, b0] = [uniform(...op.domain), uniform(...op.domain)];
      if (op.name === "relu" && Math.abs(a0) < 1e-3) continue; // not differentiable at 0
      const a = new Value(a0, "a");
      const b = new Value(b0, "b");
      op.f(a, b).backward();
      const at = (x: number, y: number) => op.f(new Value(x), new Value(y)).data;
      const dA = (at(a0 + h, b0) - at(a0 - h, b0)) / (2 * h);
      const dB = (at(a0, b0 + h) - at(a0, b0 - h)) / (2 * h);
      assertClose(a.grad, dA, 1e-5, `${op.name} d/da at (${a0}, ${b0})`);
      assertClose(b.grad, dB, 1e-5, `${op.name} d/db at (${a0}, ${b0})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Random expressions against TensorFlow.js autodiff (float32, hence the looser tolerance).

/** One expression written twice: once on Values, once on tensors. Inputs stay in safe ranges. */
type Expression<T> = (x: T, y: T, z: T) => T;
const expressionsOnValues: Expression<Value>[] = [
  (x, y, z) => x.mul(y).add(z.tanh()).exp().div(y.pow(2).add(1)),
  (x, y, z) => x.sub(y).relu().mul(z).add(x.mul(x).mul(y)).tanh(),
  (x, y, z) => x.tanh().mul(y.exp()).sub(z.div(x.pow(2).add(0.5))).pow(2),
  (x, y, z) => x.mul(2).add(y).neg().mul(z.relu().add(y.tanh())).div(3),
];
const expressionsOnTensors: Expression<tf.Tensor>[] = [
  (x, y, z) => x.mul(y).add(z.tanh()).exp().div(y.pow(2).add(1)),
  (x, y, z) => x.sub(y).relu().mul(z).add(x.mul(x).mul(y)).tanh(),
  (x, y, z) => x.tanh().mul(y.exp()).sub(z.div(x.pow(2).add(0.5))).pow(2),
  (x, y, z) => x.mul(2).add(y).neg().mul(z.relu().add(y.tanh())).div(3),
];

test("random expressions: values and gradients match tf.grads", async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
  for (let e = 0; e < expressionsOnValues.length; e++) {
    for (let trial = 0; trial < 10; trial++) {
      const inputs = [uniform(-1.5, 1.5), uniform(-1.5, 1.5), uniform(-1.5, 1.5)];
      const [x, y, z] = inputs.map((v, i) => new Value(v, "xyz"[i]));
      const out = expressionsOnValues[e](x, y, z);
      out.backward();

      const tensors = inputs.map((v) => tf.scalar(v));
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => expressionsOnTensors[e](x, y, z);
      const tfOut = f(tensors[0], tensors[1], tensors[2]).dataSync()[0];
      const tfGrads = tf.grads(f)(tensors).map((g) => g.dataSync()[0]);

      const where = `expression ${e} at ${inputs.map((v) => v.toFixed(3))}`;
      assertClose(out.data, tfOut, 1e-4, `${where}: value`);
      [x, y, z].forEach((v, i) => assertClose(v.grad, tfGrads[i], 1e-4, `${where}: d/d${"xyz"[i]}`));
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// The graph machinery.

test("topologicalOrder lists every node once, after all of its children", () => {
  const a = new Value(2, "a");
  const b = new Value(-3, "b");
  const c = a.mul(b).add(a).tanh();
  const d = c.mul(c.add(b)).div(a);
  const order = topologicalOrder(d);
  assert.equal(new Set(order).size, order.length);
  assert.equal(order[order.length - 1], d);
  const position = new Map(order.map((node, i) => [node, i]));
  for (const node of order) {
    for (const child of node.children) {
      assert.ok(position.has(child), "every child is listed");
      assert.ok(position.get(child)! < position.get(node)!, "child comes before its parent");
    }
  }
});

test("gradients accumulate for reused nodes", () => {
  const a = new Value(3, "a");
  a.add(a).backward(); // the lecture's bug: with = instead of +=, this gave 1
  assert.equal(a.grad, 2);

  const x = new Value(-2, "x");
  const y = new Value(3, "y");
  const d = x.mul(y);
  const e = x.add(y);
  d.mul(e).backward(); // f = (x*y) * (x+y) = x^2 y + x y^2
  assert.equal(x.grad, 2 * -2 * 3 + 3 * 3); // 2xy + y^2
  assert.equal(y.grad, -2 * -2 + 2 * -2 * 3); // x^2 + 2xy

  const p = new Value(1.5, "p");
  const q = p.mul(p); // q = p^2
  const r = p.mul(q).add(q); // r = p^3 + p^2
  r.backward();
  assertClose(p.grad, 3 * 1.5 ** 2 + 2 * 1.5, 1e-12, "d(p^3 + p^2)/dp");
});

test("tanh equals its exp formulation, in value and in gradient", () => {
  for (const x0 of [-2.5, -0.7, 0, 0.3, 0.8813735870195432, 2]) {
    const x1 = new Value(x0);
    const direct = x1.tanh();
    direct.backward();

    const x2 = new Value(x0);
    const e = x2.mul(2).exp();
    const viaExp = e.sub(1).div(e.add(1)); // tanh x = (e^2x - 1) / (e^2x + 1)
    viaExp.backward();

    assertClose(viaExp.data, direct.data, 1e-12, `tanh(${x0})`);
    assertClose(x2.grad, x1.grad, 1e-12, `tanh'(${x0})`);
  }
});

// ---------------------------------------------------------------------------------------------------
// The neural-network library.

const xs = [
  [2.0, 3.0, -1.0],
  [3.0, -1.0, 0.5],
  [0.5, 1.0, 1.0],
  [1.0, 1.0, -1.0],
];
const ys = [1.0, -1.0, -1.0, 1.0];

function squaredErrorLoss(model: MLP): Value {
  const predictions = xs.map((x) => model.forward(x)[0]);
  return Value.sum(predictions.map((prediction, i) => prediction.sub(ys[i]).pow(2)));
}

test("MLP(3, [4, 4, 1]) trained by gradient descent fits the lecture's four examples", () => {
  const model = new MLP(3, [4, 4, 1]);
  assert.equal(model.parameters().length, 4 * 4 + 4 * 5 + 1 * 5);
  const losses: number[] = [];
  for (let step = 0; step < 50; step++) {
    const loss = squaredErrorLoss(model);
    model.zeroGrad();
    loss.backward();
    for (const p of model.parameters()) p.data -= 0.05 * p.grad;
    losses.push(loss.data);
  }
  assert.ok(losses[losses.length - 1] < losses[0] / 10, `loss went ${losses[0]} -> ${losses.at(-1)}`);
  assert.ok(losses[losses.length - 1] < 0.1, `final loss ${losses.at(-1)}`);
  const predictions = xs.map((x) => model.forward(x)[0].data);
  predictions.forEach((p, i) => assert.equal(Math.sign(p), ys[i]));
});

test("zeroGrad resets every parameter's gradient", () => {
  const model = new MLP(3, [4, 1]);
  squaredErrorLoss(model).backward();
  assert.ok(model.parameters().some((p) => p.grad !== 0));
  model.zeroGrad();
  assert.ok(model.parameters().every((p) => p.grad === 0));
});

test("the same seed gives the same network, a different seed a different one", () => {
  const weights = (seed: number) =>
    new MLP(2, [16, 16, 1], { random: new Generator(seed) }).parameters().map((p) => p.data);
  assert.deepEqual(weights(7), weights(7));
  assert.notDeepEqual(weights(7), weights(8));
  assert.deepEqual(
    new MLP(3, [4, 4, 1]).parameters().map((p) => p.data),
    new MLP(3, [4, 4, 1]).parameters().map((p) => p.data),
  );
  const all = weights(7);
  assert.ok(all.every((w) => w >= -1 && w < 1), "weights are uniform(-1, 1)");
  assert.equal(new Set(all).size, all.length, "no two weights alike");
});

test("activations: tanh by default, relu hidden with a linear output on request", () => {
  const relu = new MLP(2, [3, 1], { activation: "relu", outputActivation: "linear" });
  assert.deepEqual(
    relu.layers.map((layer) => layer.neurons[0].activation),
    ["relu", "linear"],
  );
  assert.deepEqual(
    new MLP(2, [3, 1]).layers.map((layer) => layer.neurons[0].activation),
    ["tanh", "tanh"],
  );
  const neuron = new Neuron(2, "relu", new Generator(3));
  const out = neuron.forward([1, -2]);
  const weightedSum = neuron.weights[0].data * 1 + neuron.weights[1].data * -2 + neuron.bias.data;
  assert.equal(out.data, Math.max(0, weightedSum));
});

// ---------------------------------------------------------------------------------------------------
// The demo's data set and loss.

test("makeMoons: n points in 2-D, labels -1/+1 split in half, seeded", () => {
  const { xs, ys } = makeMoons(101, 0.1, new Generator(5));
  assert.equal(xs.length, 101);
  assert.equal(ys.length, 101);
  assert.ok(xs.every((x) => x.length === 2 && x.every(Number.isFinite)));
  assert.equal(ys.filter((y) => y === -1).length, 50);
  assert.equal(ys.filter((y) => y === 1).length, 51);
  assert.deepEqual(makeMoons(101, 0.1, new Generator(5)), { xs, ys });

  // Without noise every point lies on its half circle: radius 1 around (0, 0) or (1, 0.5).
  const clean = makeMoons(40, 0);
  clean.xs.forEach(([a, b], i) => {
    const [cx, cy] = clean.ys[i] === -1 ? [0, 0] : [1, 0.5];
    assertClose(Math.hypot(a - cx, b - cy), 1, 1e-12, "radius");
    assert.ok(clean.ys[i] === -1 ? b >= -1e-12 : b <= 0.5 + 1e-12, "upper / lower half");
  });
  assert.notDeepEqual(clean.ys.slice(0, 20), clean.ys.slice(0, 20).sort(), "shuffled");
});

test("hingeLoss is the mean of relu(1 - label * score)", () => {
  const scores = [2, 0.5, -0.3, -4].map((s) => new Value(s));
  const labels = [1, 1, 1, -1];
  const loss = hingeLoss(scores, labels);
  assertClose(loss.data, (0 + 0.5 + 1.3 + 0) / 4, 1e-12, "loss");
  loss.backward();
  assert.deepEqual(
    scores.map((s) => s.grad),
    [0, -0.25, -0.25, 0],
  );
});

test("a relu MLP trained with hinge loss separates the moons", () => {
  const { xs, ys } = makeMoons(60, 0.1, new Generator(1));
  const model = new MLP(2, [16, 16, 1], { activation: "relu", outputActivation: "linear" });
  let accuracy = 0;
  for (let step = 0; step < 40; step++) {
    const scores = xs.map((x) => model.forward(x)[0]);
    const regularization = Value.sum(model.parameters().map((p) => p.mul(p))).mul(1e-4);
    const loss = hingeLoss(scores, ys).add(regularization);
    model.zeroGrad();
    loss.backward();
    const learningRate = 1 - (0.9 * step) / 40;
    for (const p of model.parameters()) p.data -= learningRate * p.grad;
    accuracy = scores.filter((s, i) => s.data > 0 === ys[i] > 0).length / ys.length;
  }
  assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
});

// ---------------------------------------------------------------------------------------------------
// Drawing.

function lectureExample() {
  const a = new Value(2.0, "a");
  const b = new Value(-3.0, "b");
  const c = new Value(10.0, "c");
  const e = a.mul(b);
  e.label = "e";
  const d = e.add(c);
  d.label = "d";
  const f = new Value(-2.0, "f");
  const L = d.mul(f);
  L.label = "L";
  L.backward();
  return { nodes: [a, b, c, d, e, f, L], L };
}

test("graphDot shows every node's label, data and grad, and every op", () => {
  const { nodes, L } = lectureExample();
  const dot = graphDot(L);
  assert.match(dot, /^digraph \{/);
  assert.match(dot, /rankdir=LR/);
  for (const node of nodes) {
    assert.ok(
      dot.includes(`{ ${node.label} | data ${node.data.toFixed(4)} | grad ${node.grad.toFixed(4)} }`),
      `node ${node.label} in\n${dot}`,
    );
  }
  assert.ok(dot.includes("data -8.0000 | grad 1.0000"), "L = -8, dL/dL = 1");
  assert.ok(dot.includes("{ a | data 2.0000 | grad 6.0000 }"), "dL/da = b * f = 6");
  assert.equal((dot.match(/_op \[label="\*"\]/g) ?? []).length, 2);
  assert.equal((dot.match(/_op \[label="\+"\]/g) ?? []).length, 1);
  assert.equal((dot.match(/->/g) ?? []).length, 3 * 3, "each op: 2 inputs in, 1 output out");
});

test("graphDot escapes record syntax in labels", () => {
  const x = new Value(1, "x{1}|<y>");
  const dot = graphDot(x.tanh());
  assert.ok(dot.includes("x\\{1\\}\\|\\<y\\>"), dot);
});

test("drawGraph renders the graph to SVG with every label, data and grad", async () => {
  const { nodes, L } = lectureExample();
  const svg = (await drawGraph(L)).replaceAll("&#45;", "-"); // Graphviz writes minus signs as &#45;
  assert.match(svg, /^<svg[\s>]/, "starts with the <svg> element: no XML declaration, which nbconvert's HTML export rejects");
  assert.match(svg, /<\/svg>\s*$/);
  for (const node of nodes) {
    assert.ok(svg.includes(`>${node.label}<`), `label ${node.label}`);
    assert.ok(svg.includes(`data ${node.data.toFixed(4)}`), `data of ${node.label}`);
    assert.ok(svg.includes(`grad ${node.grad.toFixed(4)}`), `grad of ${node.label}`);
  }
  assert.equal((svg.match(/class="node"/g) ?? []).length, nodes.length + 3, "7 Values + 3 op nodes");

  // A tanh neuron, as drawn in the lecture, also works (and Graphviz is reused, not restarted).
  const n = new Neuron(2, "tanh", new Generator(0)).forward([2, 0]);
  n.backward();
  assert.match(await drawGraph(n), /tanh/);
});

test("graphHtml wraps the SVG in an <img> that nbconvert's HTML export keeps", async () => {
  const { L } = lectureExample();
  const html = await graphHtml(L);
  const match = html.match(/^<img src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="computation graph of L"/);
  assert.ok(match, html.slice(0, 200));
  assert.equal(Buffer.from(match[1], "base64").toString("utf8"), await drawGraph(L));
});
