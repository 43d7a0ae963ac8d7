// TorchGenerator (lib/torch-random.ts) against values printed by PyTorch 1.13 (CPU) for
// `g = torch.Generator().manual_seed(seed)`. PyTorch's randn computes its Box-Muller blocks with
// vectorised float32 math: about half our values are the same float32, the rest 1 ulp away.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TorchGenerator } from "../lib/torch-random";
import { PythonRandom } from "../lib/python-random";
import { BatchNorm1d, Embedding, Flatten, Linear, SequentialLanguageModel, Tanh } from "../lib/layers";
import { MLPLanguageModel } from "../lib/mlp";
import { buildDataset, splitWords } from "../lib/dataset";
import { namesTokenizer } from "../lib/tokenizer";
import { randomBatches } from "../lib/train";
import type { LanguageModel } from "../lib/model";
import { courseNames } from "./course-data";

const lecture = () => new TorchGenerator(2147483647);

function assertClose(actual: ArrayLike<number>, expected: number[], relative = 1e-6) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `value ${i}: ${actual[i]} vs PyTorch's ${expected[i]}`);
  }
}

test("rand and randint draw what PyTorch draws", () => {
  const g = lecture(); // torch.rand(3, generator=g): lecture 01's p before normalising (0.6064, 0.3033, 0.0903)
  assert.deepEqual([g.random(), g.random(), g.random()], [0.7081288695335388, 0.3542391061782837, 0.10543233156204224]);
  // torch.randint(0, 182625, (8,), generator=g): the first indices into lecture 03's training set
  assert.deepEqual(lecture().randint(0, 182625, 8), [138156, 41144, 63274, 75447, 70028, 82980, 61784, 130741]);
  assert.throws(() => lecture().randint(5, 5, 1), /low < high/);
  assert.throws(() => new TorchGenerator(-1), /seed in \[0, 2\^32\)/);
});

test("randn draws what PyTorch draws: small tensors, blocks of 16, a partial last block", () => {
  tf.tidy(() => {
    // torch.randn(5): the double-precision path, whose spare value the next small randn returns first
    const g = lecture();
    assertClose(g.randn([5]).dataSync(), [-0.9800073504447937, -1.6578478813171387, -0.05716622993350029, -0.34085410833358765, 2.0991551876068115]);
    assertClose(g.randn([3]).dataSync(), [0.8963767886161804, 0.33790621161460876, -0.2086971253156662]);
    assertClose(g.randn([16]).dataSync().slice(0, 2), [1.561784267425537, -1.6260507106781006]);
    // torch.randn(17): one block of 16, then the last 16 values redrawn
    assertClose(new TorchGenerator(42).randn([17]).dataSync(), [
      1.9269152879714966, -0.1595974713563919, -0.4973975419998169, 0.439589262008667, -0.7581311464309692, 1.078317642211914,
      0.8008005619049072, 1.680620551109314, 0.3558599054813385, 1.2964228391647339, 0.610466480255127, 1.334737777709961,
      -0.2316243201494217, 0.041759490966796875, -0.2515752911567688, 0.859858512878418, -0.3097267746925354,
    ]);
    // lecture 04: C = torch.randn((27, 10)), then W1 = torch.randn((30, 200)) from the same generator
    const lectureG = lecture();
    const C = lectureG.randn([27, 10]).dataSync();
    assertClose(C.slice(0, 4), [1.5673619508743286, -0.2372923195362091, -0.027384605258703232, -1.100779414176941]);
    assertClose(C.slice(-4), [-0.6453335881233215, 1.2107977867126465, -0.7819821834564209, 0.38448527455329895]);
    const W1 = lectureG.randn([30, 200]).dataSync();
    assertClose(W1.slice(0, 3), [-1.1707007884979248, 0.07193740457296371, -1.8492522239685059]);
    assert.ok(Math.abs(Array.from(W1).reduce((a, b) => a + b, 0) - 77.24905395507812) < 1e-3);
  });
});

test("Linear with biasScale draws its bias as the lecture's raw tensors do", () => {
  tf.tidy(() => {
    // W2 = torch.randn((200, 27)) * 0.01; b2 = torch.randn(27) * 0; then the batches' torch.randint
    const g = lecture();
    const layer = new Linear(200, 27, { generator: g, gain: 0.01 * Math.sqrt(200), biasScale: 0 });
    const byHand = lecture();
    const W2 = byHand.randn([200, 27]).mul(0.01);
    byHand.randn([27]);
    assert.ok(layer.weight.sub(W2).abs().max().dataSync()[0] < 1e-9);
    assert.ok(layer.bias!.dataSync().every((v) => v === 0)); // -0 for negative draws, as in PyTorch
    assert.equal(g.integer(182625), byHand.integer(182625)); // the same place in the stream
    assert.throws(() => new Linear(2, 2, { generator: g, biasScale: NaN }), /biasScale/);
    layer.dispose();
  });
});

test("lecture 04's models, drawn from TorchGenerator, give PyTorch's loss on their first batch", async () => {
  const words = await courseNames();
  const tokenizer = namesTokenizer(words);
  const trainSet = buildDataset(splitWords(words, new PythonRandom(42)).train, tokenizer, 3);
  const config = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 };
  const kaiming = 5 / 3 / Math.sqrt(30);
  // PyTorch 1.13 with the lecture's code and seed (scripts/pytorch-reference/lecture04.py): "first batch"
  const cases: [string, (g: TorchGenerator) => LanguageModel, number][] = [
    ["original", (g) => new MLPLanguageModel(config, g), 27.8817],
    ["softmax fixed", (g) => new MLPLanguageModel(config, g, { W2: 0.01, b2: 0 }), 3.3221],
    ["W1 x 0.2", (g) => new MLPLanguageModel(config, g, { W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 }), 3.3135],
    ["Kaiming", (g) => new MLPLanguageModel(config, g, { W1: kaiming, b1: 0.01, W2: 0.01, b2: 0 }), 3.3179],
    ["BatchNorm", (g) => new SequentialLanguageModel(3, [
      new Embedding(27, 10, g), new Flatten(), new Linear(30, 200, { generator: g, bias: false, gain: 5 / 3 }),
      new BatchNorm1d(200, { momentum: 0.001 }), new Tanh(),
      new Linear(200, 27, { generator: g, gain: 0.01 * Math.sqrt(200), biasScale: 0 }),
    ]), 3.3241],
  ];
  for (const [name, makeModel, pytorchLoss] of cases) {
    const g = new TorchGenerator(2147483647);
    const model = makeModel(g);
    const batch = randomBatches(trainSet, 32, g)(); // torch.randint(0, Xtr.shape[0], (32,), generator=g)
    const loss = tf.tidy(() => model.forward(batch.X, batch.Y, { training: true }).loss!.dataSync()[0]);
    assert.equal(loss.toFixed(4), pytorchLoss.toFixed(4), name);
    tf.dispose([batch.X, batch.Y, ...model.parameters()]);
  }
});
