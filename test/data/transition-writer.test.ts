import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import t from 'tap';
import { RShieldError } from '../../src/core/errors.js';
import { McapRecorder, TransitionWriter, readDataset, TRANSITIONS_TOPIC, TRANSITION_SCHEMA_NAME, type Dataset, type TransitionMessage } from '../../src/data/index.js';
import { withIndexedReader } from './mcap-file.js';
import { ACT_DIM, OBS_DIM, syntheticMeta, syntheticTransition } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-data-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, n: number, opts: { chunkBytes?: number; robot?: string; obsDim?: number } = {}): string {
  const path = join(dir, name);
  const w = TransitionWriter.open(path, { ...syntheticMeta(opts.robot, opts.obsDim), requested: n }, { chunkBytes: opts.chunkBytes ?? 4096, startTimeNs: 1_000_000_000n });
  for (let i = 0; i < n; i++) w.write(syntheticTransition(i, opts.obsDim));
  w.close();
  return path;
}

/** Rows of `d` in [from, from+n) that differ from synthetic transitions 0..n-1 (at most 3). */
function badRows(d: Dataset, from: number, n: number, episodeOffset = 0): string[] {
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 3; i++) {
    const row = from + i;
    const s = syntheticTransition(i);
    const eq = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((x, k) => x === b[k]);
    if (!eq(d.obs.subarray(row * OBS_DIM, (row + 1) * OBS_DIM), s.obs)) bad.push(`obs ${row}`);
    if (!eq(d.nextObs.subarray(row * OBS_DIM, (row + 1) * OBS_DIM), s.nextObs)) bad.push(`nextObs ${row}`);
    if (!eq(d.act.subarray(row * ACT_DIM, (row + 1) * ACT_DIM), s.act)) bad.push(`act ${row}`);
    if (d.cost[row] !== s.cost || d.done[row] !== (s.done ? 1 : 0)) bad.push(`cost/done ${row}`);
    if (d.episode[row] !== s.episode + episodeOffset || d.step[row] !== s.step) bad.push(`episode/step ${row}`);
    if (d.hasNextAct[row] !== (s.nextAct ? 1 : 0)) bad.push(`hasNextAct ${row}`);
    if (!eq(d.nextAct.subarray(row * ACT_DIM, (row + 1) * ACT_DIM), s.nextAct ?? [0, 0])) bad.push(`nextAct ${row}`);
  }
  return bad;
}

void t.test('round trip: every value written is read back, float32-exact', async (t) => {
  const path = writeFile('round.mcap', 1000);
  const d = await readDataset([path]);
  t.equal(d.size, 1000);
  t.equal(d.obsDim, OBS_DIM);
  t.equal(d.actDim, ACT_DIM);
  t.equal(d.obs.length, 1000 * OBS_DIM);
  t.same(badRows(d, 0, 1000), [], 'rows equal what was written');
  t.same(d.files.map((f) => [f.transitions, f.complete, f.bytesDiscarded]), [[1000, true, 0]]);
});

void t.test('metadata: robot, dims, bounds, generator, seed, requested N, version, created', async (t) => {
  const path = writeFile('meta.mcap', 10);
  const { meta } = await readDataset([path]);
  t.equal(meta.robot, 'synthetic');
  t.equal(meta.obsDim, OBS_DIM);
  t.same(Array.from(meta.actLow), [-1, -2]);
  t.same(Array.from(meta.actHigh), [1, 2]);
  t.equal(meta.generator, 'synthetic test transitions');
  t.equal(meta.seed, 7);
  t.equal(meta.requested, 10);
  t.match(meta.version, /^\d+\.\d+\.\d+/);
  t.ok(Math.abs(Date.parse(meta.created) - Date.now()) < 3_600_000, 'created is a real time');
  t.same(meta.obsNames, ['o0', 'o1', 'o2', 'o3']);
  t.equal(meta.units, 'm');
  t.same(meta.params, { gain: 0.9 });
});

void t.test('an indexed MCAP reader opens the file and decodes it from the schema in the file', async (t) => {
  const path = writeFile('indexed.mcap', 500, { chunkBytes: 2048 });
  await withIndexedReader(path, async (reader) => {
    t.equal(reader.header.profile, 'ros2');
    // The summary CRC is checked by Initialize; the data section CRC we check here.
    t.equal(reader.dataSectionCrc, crc32(readFileSync(path).subarray(0, Number(reader.dataEndOffset))), 'data section CRC');
    t.equal(reader.statistics?.messageCount, 500n);
    t.ok(reader.chunkIndexes.length > 5, `${reader.chunkIndexes.length} chunks`);
    const channels = [...reader.channelsById.values()];
    t.same(channels.map((c) => [c.topic, c.messageEncoding]), [[TRANSITIONS_TOPIC, 'cdr']]);
    const schema = reader.schemasById.get(channels[0]?.schemaId ?? -1);
    t.equal(schema?.name, TRANSITION_SCHEMA_NAME);
    t.equal(schema?.encoding, 'ros2msg');
    // What Foxglove does: parse the schema text and decode CDR with it, knowing nothing of rshield.
    const decoder = new MessageReader<TransitionMessage>(parse(new TextDecoder().decode(schema?.data), { ros2: true }));
    let i = 0;
    let mismatches = 0;
    for await (const m of reader.readMessages()) {
      const msg = decoder.readMessage(m.data);
      const s = syntheticTransition(i);
      if (msg.step !== s.step || msg.episode !== s.episode || msg.obs[0] !== s.obs[0] || msg.has_next_act !== (s.nextAct !== undefined)) mismatches++;
      i++;
    }
    t.equal(i, 500);
    t.equal(mismatches, 0);
    const metas = [];
    for await (const m of reader.readMetadata({ name: 'rshield' })) metas.push(m);
    t.equal(metas.length, 1);
    t.equal(metas[0]?.metadata.get('robot'), 'synthetic');
    t.equal(metas[0]?.metadata.get('act_high'), '[1,2]');
  });
});

void t.test('several files load into one dataset; episode ids stay unique', async (t) => {
  const a = writeFile('multi-a.mcap', 100);
  const b = writeFile('multi-b.mcap', 50);
  const d = await readDataset([a, b]);
  t.equal(d.size, 150);
  t.same(d.files.map((f) => [f.path, f.transitions]), [[a, 100], [b, 50]]);
  t.same(badRows(d, 0, 100), [], 'rows equal what was written');
  const episodesInA = Math.floor(99 / 37) + 1;
  t.same(badRows(d, 100, 50, episodesInA), [], 'rows equal what was written');
  t.equal(new Set(d.episode).size, episodesInA + Math.floor(49 / 37) + 1);
});

void t.test('files of different robots or dimensions are refused, naming the file', async (t) => {
  const a = writeFile('mix-a.mcap', 5);
  const b = writeFile('mix-b.mcap', 5, { robot: 'nav2' });
  const c = writeFile('mix-c.mcap', 5, { obsDim: 3 });
  await t.rejects(readDataset([a, b]), { code: 'E_DATA', message: new RegExp(`${b}.*'nav2'.*${a}.*'synthetic'`) });
  await t.rejects(readDataset([a, c]), { code: 'E_DATA', message: /obs 3.*obs 4/ });
});

void t.test('a truncated file yields the transitions of its complete chunks', async (t) => {
  const path = writeFile('trunc.mcap', 2000, { chunkBytes: 8192 });
  const full = readFileSync(path);
  const cut = join(dir, 'trunc-cut.mcap');
  writeFileSync(cut, full.subarray(0, Math.floor(full.byteLength * 0.6)));
  const d = await readDataset([cut]);
  const f = d.files[0];
  t.equal(f?.complete, false);
  t.ok(f !== undefined && f.bytesDiscarded > 0, 'reports the unusable tail');
  // Chunks hold ~60 transitions each: all but the chunk cut in half come back.
  t.ok(d.size > 0.6 * 2000 - 150 && d.size < 0.6 * 2000, `recovered ${d.size} of 2000`);
  t.same(badRows(d, 0, d.size), [], 'rows equal what was written');
});

void t.test('bad files get one clear error', async (t) => {
  await t.rejects(readDataset([join(dir, 'missing.mcap')]), { code: 'E_IO', message: /missing\.mcap.*no such file/ });
  const notMcap = join(dir, 'not.mcap');
  writeFileSync(notMcap, 'hello, world\n');
  await t.rejects(readDataset([notMcap]), { code: 'E_DATA', message: /not an MCAP file/ });
  const other = join(dir, 'other.mcap');
  const rec = McapRecorder.open(other);
  const ch = rec.addChannel({ topic: '/joint_states', schemaName: 'std_msgs/msg/Empty', schemaText: '' });
  rec.write(ch, 1n, new Uint8Array([0, 1, 0, 0]));
  rec.close();
  await t.rejects(readDataset([other]), { code: 'E_DATA', message: /no 'rshield' metadata.*\/joint_states/ });
  await t.rejects(readDataset([]), { code: 'E_USAGE' });
});

void t.test('the writer refuses transitions of the wrong size and unwritable paths', (t) => {
  const w = TransitionWriter.open(join(dir, 'dims.mcap'), syntheticMeta());
  const good = syntheticTransition(0);
  t.throws(() => w.write({ ...good, obs: new Float32Array(3) }), { code: 'E_DATA', message: /obs has 3 values, dataset expects 4/ });
  t.throws(() => w.write({ ...good, act: new Float32Array(5) }), { code: 'E_DATA', message: /act has 5 values, dataset expects 2/ });
  w.close();
  t.throws(() => TransitionWriter.open(join(dir, 'no-such-dir', 'x.mcap'), syntheticMeta()), { code: 'E_IO', message: /directory '.*no-such-dir' does not exist/ });
  t.throws(() => TransitionWriter.open(dir, syntheticMeta()), { code: 'E_IO', message: /is a directory/ });
  t.throws(() => w.write(good), RShieldError);
  t.end();
});
