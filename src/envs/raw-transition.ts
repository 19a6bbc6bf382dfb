import type { Transition } from '../core/types.js';

/** A generator's transition before the next action of its rollout is known. */
export type RawTransition = Omit<Transition, 'nextAct'>;

/**
 * Attaches nextAct (the action taken at s' in the same rollout) by looking one transition
 * ahead, lazily: a rollout's last transition has none.
 */
export function* withNextAction(raw: Iterable<RawTransition>): Generator<Transition> {
  let pending: RawTransition | undefined;
  for (const tr of raw) {
    if (pending !== undefined) {
      yield pending.episode === tr.episode ? { ...pending, nextAct: tr.act } : pending;
    }
    pending = tr;
  }
  if (pending !== undefined) yield pending;
}
