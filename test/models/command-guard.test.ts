// Operator commands: what the guard obeys and what it refuses, each with a reason that names it.
import t from 'tap';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { CommandGuard, type CommandGuardOptions, type SeenNonce } from '../../src/models/command-guard.js';
import { signedCommandPayload } from '../../src/models/command-signing.js';
import type { CmdPayload } from '../../src/config/mqtt-payloads.js';

const operator = generateSigningKeys();
const stranger = generateSigningKeys();
const NOW = 1_800_000_000_000;
const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function guard(o: Partial<CommandGuardOptions> = {}): CommandGuard {
  return new CommandGuard({ robot: 'psm1', operatorKeys: [parsePublicKey(operator.publicKeyPem)], clock: { nowMs: () => NOW }, ...o });
}
function signed(cmd: CmdPayload['cmd'], o: { at?: number; robot?: string; key?: string; id?: string } = {}): CmdPayload {
  return signedCommandPayload(parsePrivateKey(o.key ?? operator.privateKeyPem), { robot: o.robot ?? 'psm1', cmd, id: o.id }, o.at ?? NOW);
}
function refusal(g: CommandGuard, payload: unknown, retained = false): string {
  const r = g.check(bytes(payload), retained);
  if (r.ok) throw new Error('expected a refusal');
  return `${r.why}: ${r.reason}`;
}

void t.test('a fresh command signed by a trusted operator is obeyed, and names its key', async (t) => {
  const g = guard();
  const r = g.check(bytes(signed('disarm', { id: 'op-7' })), false);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.cmd.cmd, 'disarm');
    t.equal(r.keyId, operator.keyId, 'the key that signed it');
  }
  t.equal(g.accepted, 1);
  t.equal(g.refusedTotal, 0);
});

void t.test('each refusal names what is wrong, and is counted by reason', async (t) => {
  const g = guard();
  const ok = signed('disarm');
  t.match(refusal(g, ok, true), /^retained: retained command ignored/, 'a retained copy, however well signed');
  t.match(refusal(g, { v: 1, cmd: 'disarm' }), /^unsigned: command disarm refused: unsigned \(no robot, issuedAt, nonce, keyId, signature\)/);
  t.match(refusal(g, signed('disarm', { key: stranger.privateKeyPem })), new RegExp(`^unknown-key: command disarm is signed by key ${stranger.keyId}, which is not trusted`));
  t.match(refusal(g, { ...ok, cmd: 'arm' }), /^bad-signature: command arm: signature does not verify/, 'the command changed under its signature');
  t.match(refusal(g, { ...ok, issuedAt: ok.issuedAt! + 1 }), /^bad-signature/, 'the timestamp changed under its signature');
  t.match(refusal(g, signed('disarm', { robot: 'psm2' })), /^wrong-robot: command disarm refused: signed for robot 'psm2', this is 'psm1'/);
  t.match(refusal(g, signed('disarm', { at: NOW - 31_000 })), /^stale: command disarm refused: stale timestamp, issued 31\.0 s ago; commands are good for 30 s/);
  t.match(refusal(g, signed('disarm', { at: NOW + 60_000 })), /issued 60\.0 s in the future \(clock skew\?\)/);
  t.match(refusal(g, '{"v":1,"cmd":"shutdown"}'), /^invalid: cmd: /, 'not a command at all');
  t.match(refusal(g, 'x'.repeat(5000)), /^oversize: command of 5000 bytes refused unread/);
  t.same(
    Object.fromEntries(Object.entries(g.refused).filter(([, n]) => n > 0)),
    { retained: 1, unsigned: 1, 'unknown-key': 1, 'bad-signature': 2, 'wrong-robot': 1, stale: 2, invalid: 1, oversize: 1 },
  );
  t.match(g.lastRefusal, /^command of 5000 bytes/);
  t.equal(g.accepted, 0, 'nothing was obeyed');
});

void t.test('a captured command replayed is refused, within the window and after a restart', async (t) => {
  let remembered: readonly SeenNonce[] = [];
  const g = guard({ remember: (s) => (remembered = s) });
  const cmd = signed('disarm');
  t.ok(g.check(bytes(cmd), false).ok);
  t.match(refusal(g, cmd), /^replayed: command disarm refused: replayed nonce [0-9a-f]{12}… \(already obeyed\)/);
  t.equal(remembered.length, 1, 'the nonce was handed over to be persisted');
  const restarted = guard({ seen: remembered });
  t.match(refusal(restarted, cmd), /^replayed/, 'a restarted guard still knows it');
  t.ok(restarted.check(bytes(signed('disarm')), false).ok, 'a new command (new nonce) is obeyed');
});

void t.test('with no operator key every command is refused: commands are disabled', async (t) => {
  const g = guard({ operatorKeys: [] });
  t.notOk(g.enabled);
  t.match(refusal(g, signed('disarm')), /^disabled: command disarm refused: commands are disabled, no operator key is trusted/);
});

void t.test('signature checks are rate-limited; garbage costs no token', async (t) => {
  let now = NOW;
  const g = guard({ clock: { nowMs: () => now }, ratePerS: 2, burst: 3 });
  for (let i = 0; i < 100; i++) g.check(bytes('{"v":1}'), false);
  const results = Array.from({ length: 5 }, () => g.check(bytes(signed('arm', { at: now })), false).ok);
  t.same(results, [true, true, true, false, false], 'a burst of 3, then refused');
  t.equal(g.refused['rate-limited'], 2);
  t.equal(g.refused.invalid, 100);
  now += 1000;
  t.same([g.check(bytes(signed('arm', { at: now })), false).ok, g.check(bytes(signed('arm', { at: now })), false).ok, g.check(bytes(signed('arm', { at: now })), false).ok], [true, true, false], '2 more a second later');
});
