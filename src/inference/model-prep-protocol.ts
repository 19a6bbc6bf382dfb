/**
 * Messages between the model-prep pool (main thread) and its worker. Errors cross the thread
 * boundary as plain data and are rebuilt with the same code, message and context, so a model
 * refused in the worker reads exactly as one refused in-process ("critic input 'obs' has 3
 * columns, card says obsDim 4").
 */
import { RShieldError, type ErrorCode } from '../core/errors.js';
import type { PrepRequest, PreppedModel } from './model-prep.js';

export interface PrepJob {
  readonly id: number;
  readonly request: PrepRequest;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  /** Set for an RShieldError. */
  readonly code?: ErrorCode;
  readonly context?: Record<string, unknown>;
  /** The message of the error's cause (an ENOENT, a protobufjs decode error). */
  readonly cause?: string;
}

export type PrepReply = { readonly id: number; readonly ok: true; readonly model: PreppedModel } | { readonly id: number; readonly ok: false; readonly error: WireError };

function cloneable(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  // Contexts hold strings, numbers and arrays of them; what cannot cross a thread (a function) is named by its type.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) {
    try {
      out[k] = structuredClone(v);
    } catch {
      out[k] = `(${typeof v})`;
    }
  }
  return out;
}

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  const base = { name: err.name, message: err.message, ...(cause === undefined ? {} : { cause }) };
  return err instanceof RShieldError ? { ...base, code: err.code, context: cloneable(err.context) } : base;
}

export function fromWire(w: WireError): Error {
  const options = w.cause === undefined ? undefined : { cause: new Error(w.cause) };
  if (w.code !== undefined) return new RShieldError(w.code, w.message, w.context ?? {}, options);
  const err = new Error(w.message, options);
  err.name = w.name;
  return err;
}
