/**
 * The nodes and values of a graph under construction. Every node has exactly one output
 * (multi-output ONNX ops such as Split are composed from single-output ones), which keeps
 * reverse-mode autodiff a simple walk over `nodes` in reverse.
 */
import type { Shape } from './shape.js';

/** 'uint8' and 'int64' are for data inputs (camera frames) and shape arithmetic; neither is differentiated. */
export type ElemType = 'float' | 'bool' | 'uint8' | 'int64';

/** A value in a graph: a graph input, a constant, or the output of a node. */
export class Tensor {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly shape: Shape,
    readonly type: ElemType,
    readonly producer: Node | undefined,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

/** A constant int64 operand (shapes, axes, pads): serialized as an initializer, never differentiated. */
export class Int64s {
  constructor(readonly values: readonly number[]) {}
}

export type Attr = { i: number } | { f: number } | { ints: readonly number[] } | { s: string };

export interface Node {
  readonly op: string;
  /** `null` stands for an omitted optional ONNX input. */
  readonly inputs: readonly (Tensor | Int64s | null)[];
  readonly attrs: Readonly<Record<string, Attr>>;
  output: Tensor;
}
