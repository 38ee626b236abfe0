export * from './rtsp/message.js';
export * from './rtsp/transport.js';
export * from './sdp.js';
export * from './rtp.js';
export * from './stream.js';
export * from './rtsp/connection.js';
export * from './rtsp/server.js';
export * from './open-paths.js';
