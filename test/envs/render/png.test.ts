import t from 'tap';
import { inflateSync } from 'node:zlib';
import { encodePng } from '../../../src/envs/render/png.js';

void t.test('encodePng writes a PNG whose pixels inflate back, upscaled by nearest neighbour', (t) => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]); // 2×2
  const png = encodePng(rgb, 2, 2, 2);
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  t.equal(png.toString('ascii', 12, 16), 'IHDR');
  t.equal(png.readUInt32BE(16), 4, 'width 2 × 2');
  t.equal(png.readUInt32BE(20), 4);
  const idatLen = png.readUInt32BE(33);
  t.equal(png.toString('ascii', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLen));
  t.equal(raw.length, 4 * (4 * 3 + 1));
  t.same([...raw.subarray(1, 13)], [255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0], 'row 0: red red green green');
  t.same([...raw.subarray(3 * 13 + 1, 4 * 13)], [0, 0, 255, 0, 0, 255, 9, 9, 9, 9, 9, 9], 'row 3: blue blue grey grey');
  t.end();
});
