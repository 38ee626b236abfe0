export { Fmp4Parser, avcCodec, firstSampleIsSync } from './fmp4.js';
export type { Fragment } from './fmp4.js';
export { MseStreams } from './mse.js';
export type { MseOptions, Viewer } from './mse.js';
export {
  authorizeDashboard,
  cookieSession,
  isSessionRequest,
  sameOrigin,
  sessionHandler,
} from './session-http.js';
export type { DashboardAuth } from './session-http.js';
export {
  CONTENT_SECURITY_POLICY,
  dashboardBuilt,
  dashboardFile,
  defaultDashboardDir,
  serveDashboard,
} from './static.js';
export { isStreamRequest, rewritePlaylist, serveStream, streamTarget } from './streams.js';
export type { StreamTargets } from './streams.js';
export { mseUpgrade } from './upgrade.js';
