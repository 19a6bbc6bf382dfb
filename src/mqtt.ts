// `rshield/mqtt`: the MQTT side (docs/mqtt.md): the transport, the shield and trainer nodes,
// topic names and the transition batch codec.
export { MqttTransport, type MqttTransportOptions } from './transport/mqtt/mqtt-transport.js';
export type { Transport, PublishOptions, MessageHandler, MessageInfo } from './transport/transport.js';
export { ShieldNode, type ShieldNodeOptions } from './transport/mqtt/shield-node.js';
export { TrainerNode, type TrainerNodeOptions, type LearningPort } from './transport/mqtt/trainer-node.js';
export { trainerNode } from './app/trainer.js';
export { OnlineSchedule, type OnlineScheduleOptions, type OnlineTrainerPort, type GateRecord } from './learn/online-schedule.js';
export { robotTopics, type RobotTopics } from './transport/mqtt/topics.js';
export { encodeTransitions, decodeTransitions, type TransitionBatch } from './transport/mqtt/transition-codec.js';
