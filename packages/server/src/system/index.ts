export { registerSystemMethods } from './methods.js';
export type { ServerIdentity, SystemDeps } from './methods.js';
export { systemContracts, ping, getServerInfo, getStatus, getMetrics } from './contracts.js';
