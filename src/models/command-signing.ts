/**
 * Ed25519 signatures over an operator command (the same keys and checks as model versions,
 * signing.ts). What is signed names the robot, the command, the operator's id, when it was
 * issued and a random nonce, so a signature is good for one command to one robot, once, for a
 * short time: the command guard refuses a stale, replayed or misdirected one.
 */
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { CmdPayload } from '../config/mqtt-payloads.js';
import { keyIdOf, verifySigned, type ModelSignature } from './signing.js';

export interface SignedCommandFields {
  readonly robot: string;
  readonly cmd: string;
  /** The operator's own label, echoed in logs; '' when none. */
  readonly id: string;
  /** Wall-clock ms when the command was issued. */
  readonly issuedAt: number;
  /** Random hex, unique per command: a second command with the same nonce is a replay. */
  readonly nonce: string;
}

/** The exact text that is signed. */
export function commandSigningMessage(c: SignedCommandFields): Buffer {
  return Buffer.from(['rshield-command-signature-v1', `robot=${c.robot}`, `cmd=${c.cmd}`, `id=${c.id}`, `issuedAt=${c.issuedAt}`, `nonce=${c.nonce}`].join('\n'), 'utf8');
}

/** A fresh nonce: 128 random bits as hex. */
export function commandNonce(): string {
  return randomBytes(16).toString('hex');
}

export function signCommand(privateKey: KeyObject, c: SignedCommandFields): ModelSignature {
  return { signature: sign(null, commandSigningMessage(c), privateKey).toString('base64'), keyId: keyIdOf(createPublicKey(privateKey)) };
}

/** E_SIGNATURE when unsigned, signed by an unknown key, or not verifying; the key id that verified otherwise. */
export function verifyCommand(trusted: readonly KeyObject[], c: SignedCommandFields, sig: Partial<ModelSignature>): string {
  return verifySigned(trusted, commandSigningMessage(c), sig, `command ${c.cmd}${c.id !== '' ? ` (id ${c.id})` : ''}`, { robot: c.robot, cmd: c.cmd });
}

/** A `cmd` payload signed now by `privateKey`: what `rshield cmd` publishes. */
export function signedCommandPayload(privateKey: KeyObject, c: { robot: string; cmd: CmdPayload['cmd']; id?: string | undefined }, nowMs: number): CmdPayload {
  const fields = { robot: c.robot, cmd: c.cmd, id: c.id ?? '', issuedAt: Math.floor(nowMs), nonce: commandNonce() };
  const sig = signCommand(privateKey, fields);
  return {
    v: 1, cmd: c.cmd, robot: c.robot, issuedAt: fields.issuedAt, nonce: fields.nonce,
    ...(c.id !== undefined ? { id: c.id } : {}),
    keyId: sig.keyId, signature: sig.signature,
  };
}
