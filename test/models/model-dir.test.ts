import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cardFileNames, readModelDir, writeModelDir } from '../../src/models/model-dir.js';

const card = (parts: Record<string, unknown>): Record<string, unknown> => ({ robot: 'r', version: 'v1', obsDim: 2, actDim: 1, ...parts });

void t.test('a directory is read and written by the files its card names, subfolders included', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'src', 'onnx'), { recursive: true });
  await writeFile(join(dir, 'src', 'onnx', 'q.onnx'), Uint8Array.from([1, 2, 3]));
  await writeFile(join(dir, 'src', 'pi.onnx'), Uint8Array.from([4, 5]));
  await writeFile(join(dir, 'src', 'critic.onnx'), Uint8Array.from([9])); // not named by the card: not read
  await writeFile(join(dir, 'src', 'model.json'), JSON.stringify(card({ critic: { file: 'onnx/q.onnx' }, recovery: { file: 'pi.onnx' }, data: [{ file: 'demo.mcap' }] })));
  const bundle = await readModelDir(join(dir, 'src'));
  t.same([...bundle.files.keys()], ['onnx/q.onnx', 'pi.onnx'], 'the files of the card parts (data[] names recordings, not model files)');
  await writeModelDir(join(dir, 'out'), bundle);
  t.same([...(await readFile(join(dir, 'out', 'onnx', 'q.onnx')))], [1, 2, 3]);
  t.same(JSON.parse(await readFile(join(dir, 'out', 'model.json'), 'utf8')), bundle.card);
  await writeFile(join(dir, 'src', 'model.json'), JSON.stringify(card({ critic: { file: 'missing.onnx' }, recovery: { file: 'pi.onnx' } })));
  await t.rejects(readModelDir(join(dir, 'src')), { code: 'E_IO', message: /missing\.onnx \(named by .*model\.json\)/ });
});

void t.test('unsafe, repeated or absent file names are refused naming the field', (t) => {
  t.throws(() => cardFileNames(card({ critic: { file: '/etc/passwd' } }), 'c'), { code: 'E_MODEL', message: /critic\.file is "\/etc\/passwd"/ });
  t.throws(() => cardFileNames(card({ critic: { file: 'a/../../x.onnx' } }), 'c'), { message: /critic\.file/ });
  t.throws(() => cardFileNames(card({ critic: { file: 'model.json' } }), 'c'), { message: /critic\.file/ });
  t.throws(() => cardFileNames(card({ critic: { file: 'q.onnx' }, recovery: { file: 'q.onnx' } }), 'c'), { message: /recovery\.file 'q\.onnx' is named by two parts/ });
  t.throws(() => cardFileNames(card({}), 'c'), { message: /names no model files/ });
  t.end();
});
