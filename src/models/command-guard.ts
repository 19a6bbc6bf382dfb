/**
 * Decides whether an operator command on the `cmd` topic is obeyed. Refused, each counted by
 * reason and said in words: a retained message (a stale command left on the broker must not
 * change a restarted shield), malformed payloads, every command when no operator key is trusted
 * (commands disabled), unsigned, signed by an unknown key or not verifying, for another robot,
 * issued outside the freshness window (either way: a skewed clock is named), a nonce already
 * used (replay), and signature checks over the rate limit. The cheap checks come first, so a
 * flood costs a JSON parse per message; only fresh, well-formed commands reach the Ed25519 check,
 * and those at most `ratePerS` a second. Accepted nonces are kept for the window, and handed to
 * `remember` so a restart does not forget them.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { cmdPayload, parseJsonPayload, type CmdPayload } from '../config/mqtt-payloads.js';
import { isRShieldError } from '../core/errors.js';
import { TokenBucket } from '../core/token-bucket.js';
import { verifyCommand } from './command-signing.js';

export const COMMAND_REFUSALS = ['retained', 'oversize', 'invalid', 'disabled', 'unsigned', 'unknown-key', 'bad-signature', 'wrong-robot', 'stale', 'replayed', 'rate-limited'] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

export interface SeenNonce {
  readonly nonce: string;
  readonly issuedAt: number;
}

export interface CommandGuardOptions {
  readonly robot: string;
  /** Operator keys; none: every command is refused ('disabled'). */
  readonly operatorKeys: readonly KeyObject[];
  /** Wall clock (injected): issue times and the rate limit are judged by it. */
  readonly clock: Pick<Clock, 'nowMs'>;
  /** A command issued more than this before or after `now` is refused (default 30 000 ms). */
  readonly maxAgeMs?: number;
  /** Signature checks per second, on average (default 10), and at once (default 20). */
  readonly ratePerS?: number;
  readonly burst?: number;
  /** Nonces accepted before a restart (from ShieldState). */
  readonly seen?: readonly SeenNonce[];
  /** Called with the window's accepted nonces after each accepted command (persist them). */
  readonly remember?: (seen: readonly SeenNonce[]) => void;
}

export type GuardResult =
  | { readonly ok: true; readonly cmd: CmdPayload; readonly keyId: string }
  | { readonly ok: false; readonly why: CommandRefusal; readonly reason: string };

export const DEFAULT_COMMAND_MAX_AGE_MS = 30_000;
/** A command is a few hundred bytes; anything much larger is refused unread. */
const MAX_COMMAND_BYTES = 4096;

export class CommandGuard {
  readonly refused: Record<CommandRefusal, number>;
  lastRefusal: string | undefined;
  accepted = 0;
  readonly #o: CommandGuardOptions;
  readonly #maxAgeMs: number;
  readonly #bucket: TokenBucket;
  readonly #seen = new Map<string, number>();
  #remember: ((seen: readonly SeenNonce[]) => void) | undefined;

  constructor(o: CommandGuardOptions) {
    this.#o = o;
    this.#maxAgeMs = o.maxAgeMs ?? DEFAULT_COMMAND_MAX_AGE_MS;
    this.#bucket = new TokenBucket(o.ratePerS ?? 10, o.burst ?? 20, o.clock.nowMs());
    this.refused = Object.fromEntries(COMMAND_REFUSALS.map((r) => [r, 0])) as Record<CommandRefusal, number>;
    this.restore(o.seen ?? [], o.remember);
  }

  /**
   * Nonces accepted before a restart, and where to keep new ones: for a process that opens its
   * state only once it knows the robot (the recorder), before it subscribes.
   */
  restore(seen: readonly SeenNonce[], remember?: (seen: readonly SeenNonce[]) => void): void {
    const now = this.#o.clock.nowMs();
    for (const s of seen) if (now - s.issuedAt <= this.#maxAgeMs) this.#seen.set(s.nonce, s.issuedAt);
    if (remember !== undefined) this.#remember = remember;
  }

  get enabled(): boolean {
    return this.#o.operatorKeys.length > 0;
  }

  get refusedTotal(): number {
    let n = 0;
    for (const r of COMMAND_REFUSALS) n += this.refused[r];
    return n;
  }

  /** One message of the `cmd` topic; `retained`: delivered from the broker's retained store. */
  check(payload: Uint8Array, retained: boolean): GuardResult {
    if (retained) return this.#refuse('retained', 'retained command ignored: commands are obeyed only when sent live (clear it: publish an empty retained message on the topic)');
    if (payload.byteLength > MAX_COMMAND_BYTES) return this.#refuse('oversize', `command of ${payload.byteLength} bytes refused unread (at most ${MAX_COMMAND_BYTES})`);
    const r = parseJsonPayload(cmdPayload, payload);
    if (!r.ok) return this.#refuse('invalid', r.reason);
    const c = r.value;
    const what = `command ${c.cmd}${c.id !== undefined ? ` (id ${c.id})` : ''}`;
    if (!this.enabled) return this.#refuse('disabled', `${what} refused: commands are disabled, no operator key is trusted (--operator-key, or commands.trustedKeys in the profile)`);
    if (c.signature === undefined || c.keyId === undefined || c.issuedAt === undefined || c.nonce === undefined || c.robot === undefined) {
      const missing = (['robot', 'issuedAt', 'nonce', 'keyId', 'signature'] as const).filter((k) => c[k] === undefined);
      return this.#refuse('unsigned', `${what} refused: unsigned (no ${missing.join(', ')}); send it with rshield cmd --key`);
    }
    if (c.robot !== this.#o.robot) return this.#refuse('wrong-robot', `${what} refused: signed for robot '${c.robot}', this is '${this.#o.robot}'`);
    const now = this.#o.clock.nowMs();
    const age = now - c.issuedAt;
    if (Math.abs(age) > this.#maxAgeMs) {
      const when = age > 0 ? `issued ${(age / 1000).toFixed(1)} s ago` : `issued ${(-age / 1000).toFixed(1)} s in the future (clock skew?)`;
      return this.#refuse('stale', `${what} refused: stale timestamp, ${when}; commands are good for ${this.#maxAgeMs / 1000} s`);
    }
    if (this.#seen.has(c.nonce)) return this.#refuse('replayed', `${what} refused: replayed nonce ${c.nonce.slice(0, 12)}… (already obeyed)`);
    if (!this.#bucket.take(now)) return this.#refuse('rate-limited', `${what} refused: over the rate limit of ${this.#o.ratePerS ?? 10} commands/s`);
    let keyId: string;
    try {
      keyId = verifyCommand(this.#o.operatorKeys, { robot: c.robot, cmd: c.cmd, id: c.id ?? '', issuedAt: c.issuedAt, nonce: c.nonce }, { signature: c.signature, keyId: c.keyId });
    } catch (err) {
      const reason = isRShieldError(err) ? err.message : String(err);
      return this.#refuse(/not trusted/.test(reason) ? 'unknown-key' : 'bad-signature', `${reason}: refused`);
    }
    this.#seen.set(c.nonce, c.issuedAt);
    for (const [n, at] of this.#seen) if (now - at > this.#maxAgeMs) this.#seen.delete(n);
    this.accepted++;
    this.#remember?.([...this.#seen].map(([nonce, issuedAt]) => ({ nonce, issuedAt })));
    return { ok: true, cmd: c, keyId };
  }

  #refuse(why: CommandRefusal, reason: string): GuardResult {
    this.refused[why]++;
    this.lastRefusal = reason;
    return { ok: false, why, reason };
  }
}
