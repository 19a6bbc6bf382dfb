/**
 * A small deterministic software rasterizer: filled circles, rectangles and polygons into a
 * uint8 RGB buffer (row-major, 3 bytes a pixel, `rgb8` in sensor_msgs/Image terms). A pixel
 * is covered when its centre is inside the shape, so the same scene gives the same bytes on
 * every machine (no anti-aliasing, no floating-point accumulation across pixels).
 *
 * Shapes are given in world coordinates through a `View` (a window of the plane mapped onto
 * the image, y pointing up as in the robots' base frames), or in pixels with `View.pixels`.
 */
import { RShieldError } from '../../core/errors.js';

export type Rgb = readonly [number, number, number];

/** Maps a world window [x0, x1] × [y0, y1] onto a width × height image, +y up. */
export class View {
  readonly #sx: number;
  readonly #sy: number;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly x: readonly [number, number],
    readonly y: readonly [number, number],
  ) {
    if (!(x[1] > x[0]) || !(y[1] > y[0])) throw new RShieldError('E_USAGE', `view window [${x.join(', ')}] × [${y.join(', ')}] is empty`);
    this.#sx = width / (x[1] - x[0]);
    this.#sy = height / (y[1] - y[0]);
  }

  /** The identity view: world coordinates are pixel coordinates (+y down, as in the buffer). */
  static pixels(width: number, height: number): View {
    return new View(width, height, [0, width], [-height, 0]);
  }

  /** Column coordinate (pixel units, 0 at the left edge) of world x. */
  col(x: number): number {
    return (x - this.x[0]) * this.#sx;
  }

  /** Row coordinate (pixel units, 0 at the top edge) of world y. */
  row(y: number): number {
    return (this.y[1] - y) * this.#sy;
  }

  /** World length → pixels along x (circles use the x scale; keep views isotropic for round discs). */
  length(d: number): number {
    return d * this.#sx;
  }
}

export class Raster {
  readonly data: Uint8Array;
  /** Bytes per row (`step` of sensor_msgs/Image). */
  readonly step: number;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
      throw new RShieldError('E_USAGE', `raster size ${width}×${height} must be positive integers`);
    }
    this.step = width * 3;
    if (data !== undefined && data.length !== this.step * height) {
      throw new RShieldError('E_USAGE', `raster buffer has ${data.length} bytes, ${width}×${height} rgb8 needs ${this.step * height}`);
    }
    this.data = data ?? new Uint8Array(this.step * height);
  }

  clear(c: Rgb): this {
    for (let i = 0; i < this.data.length; i += 3) this.#put(i, c);
    return this;
  }

  /** Axis-aligned rectangle [x0, x1] × [y0, y1] in world coordinates of `v`. */
  fillRect(v: View, x: readonly [number, number], y: readonly [number, number], c: Rgb): this {
    const c0 = v.col(x[0]);
    const c1 = v.col(x[1]);
    const r0 = v.row(y[1]);
    const r1 = v.row(y[0]);
    this.#spans(Math.min(r0, r1), Math.max(r0, r1), () => [Math.min(c0, c1), Math.max(c0, c1)], c);
    return this;
  }

  /** Disc of radius `r` (world units) centred at (cx, cy). */
  fillCircle(v: View, cx: number, cy: number, r: number, c: Rgb): this {
    const pc = v.col(cx);
    const pr = v.row(cy);
    const pR = v.length(r);
    this.#spans(pr - pR, pr + pR, (yc) => {
      const h = pR * pR - (yc - pr) * (yc - pr);
      if (h < 0) return null;
      const w = Math.sqrt(h);
      return [pc - w, pc + w];
    }, c);
    return this;
  }

  /** Simple polygon (even-odd rule), vertices [x, y] in world coordinates. */
  fillPolygon(v: View, points: readonly (readonly [number, number])[], c: Rgb): this {
    if (points.length < 3) return this;
    const px = points.map((p) => v.col(p[0]));
    const py = points.map((p) => v.row(p[1]));
    const xs: number[] = [];
    for (let row = this.#firstRow(Math.min(...py)); row <= this.#lastRow(Math.max(...py)); row++) {
      const yc = row + 0.5;
      xs.length = 0;
      for (let i = 0, j = px.length - 1; i < px.length; j = i++) {
        const yi = py[i]!;
        const yj = py[j]!;
        if (yi > yc !== yj > yc) xs.push(px[i]! + ((yc - yi) / (yj - yi)) * (px[j]! - px[i]!));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) this.#row(row, xs[k]!, xs[k + 1]!, c);
    }
    return this;
  }

  /** The colour at pixel (col, row). */
  pixel(col: number, row: number): [number, number, number] {
    const i = row * this.step + col * 3;
    return [this.data[i]!, this.data[i + 1]!, this.data[i + 2]!];
  }

  /** Rows whose centres lie in [top, bottom]; `span` gives the covered column interval of a row centre. */
  #spans(top: number, bottom: number, span: (rowCentre: number) => readonly [number, number] | null, c: Rgb): void {
    for (let row = this.#firstRow(top); row <= this.#lastRow(bottom); row++) {
      const s = span(row + 0.5);
      if (s !== null) this.#row(row, s[0], s[1], c);
    }
  }

  /** Pixels of `row` whose centres lie in [left, right]. */
  #row(row: number, left: number, right: number, c: Rgb): void {
    const first = Math.max(0, Math.ceil(left - 0.5));
    const last = Math.min(this.width - 1, Math.floor(right - 0.5));
    for (let col = first, i = row * this.step + first * 3; col <= last; col++, i += 3) this.#put(i, c);
  }

  #firstRow(top: number): number {
    return Math.max(0, Math.ceil(top - 0.5));
  }

  #lastRow(bottom: number): number {
    return Math.min(this.height - 1, Math.floor(bottom - 0.5));
  }

  #put(i: number, c: Rgb): void {
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }
}
