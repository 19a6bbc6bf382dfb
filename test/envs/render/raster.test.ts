import t from 'tap';
import { createHash } from 'node:crypto';
import { Raster, View } from '../../../src/envs/render/raster.js';

const RED = [255, 0, 0] as const;

void t.test('a rectangle covers exactly the pixels whose centres it contains', (t) => {
  const r = new Raster(8, 4).fillRect(View.pixels(8, 4), [1, 3], [-3, -1], RED);
  // Pixel view: x = column, y = −row; rows 1..2 and columns 1..2 have centres inside.
  const lit: string[] = [];
  for (let row = 0; row < 4; row++) for (let col = 0; col < 8; col++) if (r.pixel(col, row)[0] === 255) lit.push(`${col},${row}`);
  t.same(lit, ['1,1', '2,1', '1,2', '2,2']);
  t.end();
});

void t.test('a disc of radius 2 px at a pixel corner lights 12 pixels, symmetric', (t) => {
  const r = new Raster(8, 8).fillCircle(View.pixels(8, 8), 4, -4, 2, RED);
  let n = 0;
  for (let row = 0; row < 8; row++) for (let col = 0; col < 8; col++) if (r.pixel(col, row)[0] === 255) n++;
  t.equal(n, 12, 'centres at distance √0.5, √2.5 (×4 each) and √4.5 > 2 are out');
  t.same(r.pixel(3, 3), [255, 0, 0]);
  t.same(r.pixel(1, 3), [0, 0, 0], 'centre (1.5, 3.5) is 2.55 px away');
  t.end();
});

void t.test('a polygon fills by the even-odd rule; world y points up', (t) => {
  const v = new View(10, 10, [0, 1], [0, 1]);
  const r = new Raster(10, 10).fillPolygon(v, [[0, 0], [1, 0], [0, 1]], RED);
  t.same(r.pixel(0, 9), [255, 0, 0], 'bottom-left corner of the triangle is lit');
  t.same(r.pixel(9, 0), [0, 0, 0], 'top-right is not');
  t.same(r.pixel(4, 5), [255, 0, 0], 'centre (0.45, 0.45) is inside');
  t.same(r.pixel(6, 5), [0, 0, 0], 'centre (0.65, 0.45) is outside');
  t.end();
});

void t.test('shapes outside the buffer are clipped; the same scene gives the same bytes', (t) => {
  const draw = (): string => {
    const v = new View(16, 16, [-1, 1], [-1, 1]);
    const r = new Raster(16, 16).clear([1, 2, 3]).fillCircle(v, 0.9, 0.9, 0.5, RED).fillRect(v, [-5, 5], [-0.1, 0.1], [0, 9, 0]);
    return createHash('sha256').update(r.data).digest('hex');
  };
  t.equal(draw(), draw());
  t.throws(() => new Raster(4, 4, new Uint8Array(10)), /10 bytes, 4×4 rgb8 needs 48/);
  t.end();
});
