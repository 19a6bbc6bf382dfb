type Typed = Float32Array | Uint32Array | Uint8Array;

/** A copy of `a` in a new array of `length` elements (zero-filled beyond `a`): growth of column buffers. */
export function resized<T extends Typed>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
