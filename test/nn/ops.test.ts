// Every op's gradient against central finite differences through ONNX Runtime (float64).
import t from 'tap';
import type { GraphBuilder, Tensor } from '../../src/nn/index.js';
import { gradCheck, type CheckOptions } from './gradcheck.js';

type Case = [string, (g: GraphBuilder) => Tensor, CheckOptions?];

const positive = (n: number, lo = 0.5, hi = 2): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * ((i * 7) % n)) / n + 0.013 * i);

const cases: Case[] = [
  ['MatMul 2-D', (g) => g.matmul(g.input('a', [3, 4]), g.input('b', [4, 5]))],
  ['MatMul batched, broadcast', (g) => g.matmul(g.input('a', [2, 3, 4]), g.input('b', [4, 5]))],
  ['Gemm + bias row', (g) => g.gemm(g.input('a', [3, 4]), g.input('b', [4, 5]), g.input('c', [5]))],
  ['Gemm transA', (g) => g.gemm(g.input('a', [4, 3]), g.input('b', [4, 5]), g.input('c', [1, 5]), { transA: true })],
  ['Gemm transB', (g) => g.gemm(g.input('a', [3, 4]), g.input('b', [5, 4]), g.input('c', [3, 5]), { transB: true })],
  ['Gemm transA transB', (g) => g.gemm(g.input('a', [4, 3]), g.input('b', [5, 4]), undefined, { transA: true, transB: true })],
  ['Add broadcast', (g) => g.add(g.input('a', [3, 4]), g.input('b', [4]))],
  ['Sub broadcast column', (g) => g.sub(g.input('a', [3, 1]), g.input('b', [3, 4]))],
  ['Mul broadcast', (g) => g.mul(g.input('a', [2, 3, 4]), g.input('b', [3, 1]))],
  ['Div', (g) => g.div(g.input('a', [3, 4]), g.input('b', [4])), { values: { b: positive(4) } }],
  ['Neg', (g) => g.neg(g.input('x', [5]))],
  ['Relu', (g) => g.relu(g.input('x', [3, 5]))],
  ['Tanh', (g) => g.tanh(g.input('x', [3, 5]))],
  ['Sigmoid', (g) => g.sigmoid(g.input('x', [3, 5]))],
  ['Softplus', (g) => g.softplus(g.mul(g.input('x', [3, 5]), 30))],
  ['Exp', (g) => g.exp(g.input('x', [3, 5]))],
  ['Log', (g) => g.log(g.input('x', [6])), { values: { x: positive(6) } }],
  ['Sqrt', (g) => g.sqrt(g.input('x', [6])), { values: { x: positive(6) } }],
  ['Pow tensor exponent', (g) => g.pow(g.input('x', [6]), g.input('p', [6])), { values: { x: positive(6) } }],
  ['Pow scalar exponent', (g) => g.pow(g.input('x', [6]), 3)],
  ['Square', (g) => g.square(g.input('x', [2, 3]))],
  ['Abs', (g) => g.abs(g.input('x', [7]))],
  ['Concat', (g) => g.concat([g.input('a', [2, 3]), g.input('b', [2, 1]), g.input('c', [2, 2])], 1)],
  ['Slice', (g) => g.slice(g.input('x', [4, 6]), [1, -4], [3, 5], [0, 1])],
  ['Split', (g) => {
    const [a, b] = g.split(g.input('x', [3, 5]), [2, 3], 1);
    return g.mul(g.reduceSum(a!, [1], true), b!);
  }],
  ['Reshape', (g) => g.mul(g.reshape(g.input('x', [2, 6]), [3, -1]), g.input('w', [3, 4]))],
  ['Transpose', (g) => g.matmul(g.transpose(g.input('x', [2, 3, 4]), [0, 2, 1]), g.input('w', [3, 2]))],
  ['ReduceSum axes keepdims', (g) => g.reduceSum(g.input('x', [2, 3, 4]), [0, 2], true)],
  ['ReduceSum all', (g) => g.mul(g.reduceSum(g.input('x', [2, 3])), g.input('s', [2]))],
  ['ReduceMean axis', (g) => g.reduceMean(g.input('x', [3, 4]), [1])],
  ['ReduceMax axis', (g) => g.reduceMax(g.input('x', [3, 4]), [-1])],
  ['Max elementwise', (g) => g.max(g.input('a', [3, 4]), g.input('b', [4]))],
  ['Min elementwise', (g) => g.min(g.input('a', [3, 4]), g.input('b', [3, 1]))],
  ['Where/Greater', (g) => {
    const a = g.input('a', [3, 4]);
    const b = g.input('b', [3, 4]);
    return g.where(g.greater(a, b), g.mul(a, b), g.exp(b));
  }],
  ['Clip', (g) => g.clip(g.input('x', [8]), -0.5, 0.5)],
  ['Expand', (g) => g.expand(g.input('x', [3, 1]), [2, 3, 4])],
  ['Pad', (g) => g.pad(g.input('x', [2, 3]), [1, 0, 0, 2])],
  ['Identity and toFloat mask', (g) => {
    const x = g.input('x', [6]);
    return g.mul(g.identity(x), g.toFloat(g.greater(x, 0)));
  }],
];

for (const [name, build, opts] of cases) {
  void t.test(name, async (t) => {
    const r = await gradCheck(build, opts);
    t.ok(r.worst <= 1, `gradient matches finite differences (${r.checked} elements; worst ${r.worst.toFixed(3)} at ${r.where})`);
  });
}

// ONNX Runtime's CPU Conv kernels are float32 only, so these checks use float32 tolerances.
void t.test('Conv stride 2, pad 1', async (t) => {
  const r = await gradCheck((g) => g.conv(g.input('x', [2, 3, 7, 7]), g.input('w', [4, 3, 3, 3]), g.input('b', [4]), { stride: 2, pad: 1 }), {
    dtype: 'float32',
    samples: 8,
  });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('Conv dilation 2', async (t) => {
  const r = await gradCheck((g) => g.conv(g.input('x', [1, 2, 8, 8]), g.input('w', [3, 2, 3, 3]), undefined, { dilation: 2 }), { dtype: 'float32' });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('ConvTranspose stride 2, pad 1, output padding 1', async (t) => {
  const r = await gradCheck(
    (g) => g.convTranspose(g.input('x', [2, 3, 4, 4]), g.input('w', [3, 2, 3, 3]), g.input('b', [2]), { stride: 2, pad: 1, outputPadding: [1, 1] }),
    { dtype: 'float32', samples: 8 },
  );
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});
