export { WsServer, Session } from './ws-server.js';
export { ClientResolver, hostOf } from './client.js';
export type { ClientInfo } from './client.js';
export { targetPath, targetQuery, decodeSegment } from './request-target.js';
export type { DropReason, MessageHandler, WsLimits, WsServerOptions } from './ws-server.js';
export { createHttpServer, guard, listen, closeServer, rejectSocket, sendJson } from './listen.js';
export type { Handler, ServerOptions, TlsFiles } from './listen.js';
