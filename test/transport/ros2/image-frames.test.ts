import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapStreamReader } from '@mcap/core';
import { readFileSync } from 'node:fs';
import { cameraOf, renderFrame } from '../../../src/envs/index.js';
import { readDataset } from '../../../src/data/index.js';
import { readFrames } from '../../../src/transport/ros2/image-frames.js';
import { runCli } from '../../helpers/cli.js';
import { hasRos2, isolateRos2 } from './harness.js';
import { infoMatchesFile } from './ros2-bag.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-frames-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('collect writes a sensor_msgs/Image channel beside the transitions; readFrames pairs every state with its frame', async (t) => {
  const file = join(dir, 'dri.mcap');
  const r = await runCli(t, 'collect', '--robot', 'dvrk-reacher-image', '--transitions', '300', '--seed', '3', '--out', file);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /wrote 300 transitions \(\d+ violations, (\d+) episodes\) and \d+ camera frames/);

  // Read with @mcap/core alone: a CDR channel with the ROS 2 type, one frame per state.
  const reader = new McapStreamReader();
  reader.append(readFileSync(file));
  const schemas = new Map<number, string>();
  const topics = new Map<number, { topic: string; schema: string; encoding: string; count: number }>();
  for (let rec = reader.nextRecord(); rec !== undefined; rec = reader.nextRecord()) {
    if (rec.type === 'Schema') schemas.set(rec.id, rec.name);
    if (rec.type === 'Channel' && !topics.has(rec.id)) topics.set(rec.id, { topic: rec.topic, schema: schemas.get(rec.schemaId) ?? '?', encoding: rec.messageEncoding, count: 0 });
    if (rec.type === 'Message') topics.get(rec.channelId)!.count++;
  }
  const cam = [...topics.values()].find((c) => c.topic === '/rshield/camera/image_raw');
  t.match(cam, { schema: 'sensor_msgs/msg/Image', encoding: 'cdr' });

  const data = await readDataset([file]);
  const frames = await readFrames([file]);
  t.ok(frames);
  if (frames === null) return;
  t.match(frames, { width: 64, height: 48, encoding: 'rgb8' });
  t.equal(frames.obs.length, 300);
  // One frame per state: each transition's, plus the next state's where the next row does not start from it.
  let ends = 0;
  for (let i = 0; i < data.size; i++) {
    const continues = i + 1 < data.size && data.done[i] === 0 && data.episode[i + 1] === data.episode[i] && data.step[i + 1] === data.step[i]! + 1;
    if (!continues) ends++;
  }
  t.ok(ends >= new Set(data.episode).size);
  t.equal(cam?.count, 300 + ends, 'one frame per state, none twice');
  const camera = cameraOf('dvrk-reacher-image')!;
  let same = 0;
  for (let i = 0; i < data.size; i++) {
    const want = renderFrame(camera, data.obs.subarray(i * 3, i * 3 + 3)).data;
    const wantNext = renderFrame(camera, data.nextObs.subarray(i * 3, i * 3 + 3)).data;
    if (Buffer.from(frames.obs[i]!).equals(want) && Buffer.from(frames.next[i]!).equals(wantNext)) same++;
  }
  t.equal(same, 300, 'every recorded frame is the camera\'s picture of that row\'s state and next state');

  const plain = join(dir, 'plain.mcap');
  t.equal((await runCli(t, 'collect', '--robot', 'dvrk-reacher', '--transitions', '50', '--out', plain)).code, 0);
  t.equal(await readFrames([plain]), null, 'data without a camera has no frames');
  await t.rejects(readFrames([file, plain]), { code: 'E_DATA', message: /plain\.mcap: no camera frames on \/rshield\/camera\/image_raw, other files of the dataset have them/ });
});

void t.test('ros2 bag info opens a dataset with frames', { skip: !hasRos2() && 'no ROS 2 sourced', timeout: 120_000 }, async (t) => {
  isolateRos2();
  const file = join(dir, 'bag.mcap');
  t.equal((await runCli(t, 'collect', '--robot', 'image-maze', '--transitions', '100', '--out', file)).code, 0);
  const want = await infoMatchesFile(t, file);
  t.equal(want.get('/rshield/camera/image_raw')?.type, 'sensor_msgs/msg/Image');
});
