export * from './rtsp/message.js';
export * from './rtsp/transport.js';
export * from './sdp.js';
export * from './rtp.js';
