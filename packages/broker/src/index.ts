export { Broker } from './Broker';
export { brokerConfigSpec, type BrokerConfig } from './config';
