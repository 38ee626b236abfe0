export { WsServer, Session, hostOf } from './ws-server.js';
export type { DropReason, MessageHandler, WsLimits, WsServerOptions } from './ws-server.js';
export { createHttpServer, listen, closeServer, sendJson } from './listen.js';
export type { TlsFiles } from './listen.js';
