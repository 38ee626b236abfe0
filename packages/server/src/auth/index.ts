export { ApiKeyStore, looksLikeApiKey } from './api-keys.js';
export type { ApiKeyInfo, ApiKeyRecord, KeyCheck } from './api-keys.js';
export { AuthAccessControl } from './access.js';
export type { RateLimit } from './access.js';
export { Authenticator } from './authenticator.js';
export { authContracts, authenticate } from './contracts.js';
export { AuthFailure, RateLimited } from './errors.js';
export type { AuthFailureReason } from './errors.js';
export { FailureThrottle } from './failure-throttle.js';
export { authFailure, authorizeRequest, credentialOf, guardRequest } from './http.js';
export type { HttpAuthResult } from './http.js';
export { JwtService, parseTtl } from './jwt.js';
export type { MintOptions, VerifiedToken } from './jwt.js';
export { PERMISSIONS, registerAuthMethods, registerKeyMethods } from './methods.js';
export { createApiKey, keyContracts, listApiKeys, revokeApiKey } from './key-contracts.js';
export { MIN_SECRET_BYTES, devSecretPath, resolveJwtSecret } from './secret.js';
export { TokenBucket } from './token-bucket.js';
export { writeFileAtomic } from './atomic-file.js';
export { keysCreate, keysList, keysRevoke, mintToken } from './cli.js';
export type { CliOutput } from './cli.js';
export { StreamAccess, credentialIn } from './stream-access.js';
export type {
  Credential,
  InternalStreamCredentials,
  StreamAccessOptions,
  StreamAuthRequest,
  StreamDecision,
} from './stream-access.js';
export { SESSION_COOKIE, WebSessions, hashOf, sessionCookie } from './sessions.js';
export type { WebSessionsOptions } from './sessions.js';
