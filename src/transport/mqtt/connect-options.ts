/**
 * Broker connection options shared by `run`, `trainer` and `status`: the URL and credentials.
 * The password comes from the environment (RSHIELD_MQTT_PASSWORD) rather than argv, where `ps`
 * would show it; --password exists for tests and throwaway brokers.
 */
import { RShieldError } from '../../core/errors.js';

export const brokerOptionTable = {
  broker: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
} as const;

export interface BrokerOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

export function brokerOptions(command: string, values: Readonly<Record<string, unknown>>): BrokerOptions {
  const url = values.broker;
  if (typeof url !== 'string') throw new RShieldError('E_USAGE', `--broker URL is required (see rshield ${command} --help)`);
  if (!/^(mqtts?|wss?|tcp):\/\/[^\s]+$/.test(url)) throw new RShieldError('E_USAGE', `--broker must be a URL like mqtt://host:1883, got '${url}'`, { broker: url });
  const username = typeof values.username === 'string' ? values.username : process.env.RSHIELD_MQTT_USERNAME;
  const password = typeof values.password === 'string' ? values.password : process.env.RSHIELD_MQTT_PASSWORD;
  return { url, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}
