export { registerSystemMethods } from './methods.js';
export type { ServerIdentity, SystemDeps } from './methods.js';
export {
  SERVER_CAPABILITIES,
  SUPPORTED_FORMATS,
  systemContracts,
  ping,
  getServerInfo,
  getStatus,
  getMetrics,
} from './contracts.js';
