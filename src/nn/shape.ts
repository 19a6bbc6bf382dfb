/**
 * Static shapes of graph tensors. A dimension is a number, or a name (`'N'`) for a dimension
 * only known at run time (the batch of an exported inference model). Training graphs are fully
 * static; symbolic dimensions only need to survive forward-pass shape inference.
 */
import { RShieldError } from '../core/errors.js';

export type Dim = number | string;
export type Shape = readonly Dim[];

export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function graphError(op: string, message: string, shapes: readonly Shape[] = []): RShieldError {
  return new RShieldError('E_GRAPH', `${op}: ${message}`, { op, shapes: shapes.map(fmt) });
}

/** Number of elements; throws for symbolic shapes (only static tensors have a size). */
export function sizeOf(shape: Shape, op = 'size'): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw graphError(op, `shape ${fmt(shape)} is not static`, [shape]);
    n *= d;
  }
  return n;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy/ONNX multidirectional broadcasting. */
export function broadcast(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw graphError(op, `shapes ${fmt(a)} and ${fmt(b)} do not broadcast`, [a, b]);
  }
  return out;
}

/** Normalises a possibly negative axis against a rank. */
export function axisOf(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw graphError(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}
