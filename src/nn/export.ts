/**
 * Export of inference graphs (critic(obs, act) → q_risk, recovery(obs) → action): parameter
 * values become initializers, inputs keep symbolic batch dimensions, and a JSON card names
 * every input and output with its shape so the shield can validate the model it loads.
 */
import { RShieldError } from '../core/errors.js';
import { GraphBuilder } from './graph.js';
import { IR_VERSION, OPSET, serialize } from './serialize.js';
import type { Dim } from './shape.js';

export interface TensorSpec {
  name: string;
  shape: Dim[];
  dtype: 'float32' | 'float64';
}

export interface InferenceCard {
  format: 'onnx';
  name: string;
  opset: number;
  irVersion: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Number of parameter values baked into the model. */
  parameters: number;
  producer: 'rshield/nn';
  description?: string;
}

/** An empty graph whose parameters will be written as initializers (for `exportInference`). */
export function inferenceGraph(name: string, opts: { dtype?: 'float32' | 'float64' } = {}): GraphBuilder {
  return new GraphBuilder(name, { params: 'initializers', dtype: opts.dtype ?? 'float32' });
}

export function exportInference(g: GraphBuilder, opts: { description?: string } = {}): { onnx: Uint8Array; card: InferenceCard } {
  if (g.paramMode !== 'initializers') {
    throw new RShieldError('E_GRAPH', `graph ${g.name} keeps parameters as inputs; build it with inferenceGraph()`, { graph: g.name });
  }
  if (g.updates.size > 0) throw new RShieldError('E_GRAPH', `graph ${g.name} updates state; an inference graph must not`, { graph: g.name });
  if (g.outputs.size === 0) throw new RShieldError('E_GRAPH', `graph ${g.name} has no outputs`, { graph: g.name });
  let parameters = 0;
  const inputs: TensorSpec[] = [];
  for (const inp of g.inputs.values()) {
    if (inp.kind !== 'data') {
      throw new RShieldError('E_GRAPH', `graph ${g.name} has ${inp.kind} input ${inp.tensor.name}; inference graphs take data inputs only`, { graph: g.name });
    }
    inputs.push({ name: inp.tensor.name, shape: [...inp.tensor.shape], dtype: g.dtype });
  }
  for (const [t, c] of g.constants) if (typeof c.values === 'function') parameters += t.shape.reduce<number>((n, d) => n * (d as number), 1);
  const outputs = [...g.outputs].map(([name, t]) => ({ name, shape: [...t.shape], dtype: g.dtype }));
  const card: InferenceCard = { format: 'onnx', name: g.name, opset: OPSET, irVersion: IR_VERSION, inputs, outputs, parameters, producer: 'rshield/nn' };
  if (opts.description !== undefined) card.description = opts.description;
  return { onnx: serialize(g, { docString: opts.description ?? '' }), card };
}
