export { Gateway, type GatewayOptions, type GatewayStatus } from './gateway.js';
export {
  ControlPlaneConfigSource,
  FileConfigSource,
  StaticConfigSource,
  parseRoutingConfig,
  type ConfigSource,
  type ControlPlaneSourceOptions,
  type SourceStatus,
} from './config-source.js';
export { Measurements, type Drained, type GatewayEvent, type RequestMeasurement, type ShadowPair, type ShadowSide } from './measurements.js';
export type { DrainStatus } from './drains.js';
export type { TokenUsage } from './usage.js';
