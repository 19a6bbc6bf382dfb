/** Which keys sign the model versions a ROS 2 shield runs: the start model and, online, every later one (`trust_keys`, the profile). */
import type { KeyObject } from 'node:crypto';
import type { RobotProfile } from '../config/profile.js';
import { listParam, type RosParams } from '../config/ros-params.js';
import { RShieldError } from '../core/errors.js';
import { profileModelTrust, readPublicKeyFiles, uniqueKeys } from '../models/trust.js';

/** The keys that sign model versions for this shield: the profile's and trust_keys; unsigned only for a simulated profile that allows it. */
export async function ros2ModelTrust(profile: RobotProfile, profileFile: string, params: RosParams): Promise<{ keys: KeyObject[]; allowUnsigned: boolean }> {
  const fromProfile = profileModelTrust(profile, profileFile);
  if (params.allow_unsigned && profile.kind !== 'sim') {
    throw new RShieldError('E_CONFIG', `allow_unsigned is for simulated robots only; profile ${profile.name} is kind ${profile.kind}: sign the versions (rshield trainer --key) and trust the key (trust_keys, or models.trustedKeys in the profile)`, { robot: profile.name });
  }
  const keys = uniqueKeys(fromProfile.keys, await readPublicKeyFiles('trust_keys', listParam(params.trust_keys)));
  return { keys, allowUnsigned: fromProfile.allowUnsigned || params.allow_unsigned };
}
