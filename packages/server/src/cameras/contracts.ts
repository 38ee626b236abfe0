/** The camera object and the camera methods' contracts (SPEC section 3 and 4). */
import { z } from 'zod';
import { defineMethod } from '../rpc/index.js';

export const cameraStatus = z.enum(['CONNECTED', 'DISCONNECTED', 'ERROR']);

export const cameraObject = z.object({
  /** The node path (/dev/video0) for V4L2 cameras, the configured id for declared ones. */
  device: z.string(),
  status: cameraStatus,
  name: z.string(),
  /** The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device). */
  resolution: z.string(),
  /** The streamed frame rate; 0 when unknown. */
  fps: z.number(),
  /** On the host the client connected with; null when there is no stream (yet). */
  streams: z.object({
    rtsp: z.string().nullable(),
    webrtc: z.string().nullable(),
    hls: z.string().nullable(),
    /** What watching takes: a credential of the viewer role or above; null: anyone may watch. */
    credential: z.enum(['viewer']).nullable(),
    /**
     * The stream URLs with a credential in them, `{token}` standing for a JWT or API key:
     * `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes
     * it as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for
     * the player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may
     * watch or there is no stream.
     */
    token_urls: z
      .object({ rtsp: z.string(), webrtc: z.string().nullable(), hls: z.string() })
      .nullable(),
  }),
  capabilities: z.object({
    formats: z.array(z.string()),
    resolutions: z.array(z.string()),
    frame_rates: z.array(z.number()),
  }),
  recording: z.object({
    active: z.boolean(),
    session_id: z.string().nullable(),
    filename: z.string().nullable(),
    elapsed_seconds: z.number().nullable(),
  }),
  /** v4l2, test_pattern or url. */
  kind: z.enum(['v4l2', 'test_pattern', 'url']),
  /** The media server path: camera<N> for /dev/video<N>, the id for declared cameras. */
  stream_path: z.string(),
  /** /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port. */
  stable_id: z.string().nullable(),
  driver: z.string().nullable(),
  bus: z.string().nullable(),
  /** The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras. */
  capture_format: z.string().nullable(),
  /** Why the camera is in ERROR, as a sentence. */
  error: z.string().nullable(),
  /** The media server has the stream running now (on-demand streams start with a reader). */
  stream_ready: z.boolean(),
});

export const cameraWithMetrics = cameraObject.extend({
  metrics: z.object({
    bytes_sent: z.number().int(),
    readers: z.number().int(),
    /** Seconds the stream has been ready; 0 while it is not. */
    uptime: z.number(),
  }),
});

const deviceParam = z.strictObject({
  device: z
    .string({ error: 'expected the camera device, e.g. "/dev/video0" or a declared camera id' })
    .min(1, { error: 'expected the camera device, e.g. "/dev/video0" or a declared camera id' })
    .max(256, { error: 'expected a device name of at most 256 characters' }),
});

export const getCameraList = defineMethod({
  name: 'get_camera_list',
  summary: 'Lists every known camera, connected or not, with its streams on the host you used.',
  access: 'viewer',
  params: z.strictObject({}),
  result: z.object({
    cameras: z.array(cameraObject),
    total: z.number().int(),
    connected: z.number().int(),
  }),
});

export const getCameraStatus = defineMethod({
  name: 'get_camera_status',
  summary: "One camera, with its stream's metrics from the media server.",
  access: 'viewer',
  params: deviceParam,
  result: cameraWithMetrics,
});

export const cameraContracts = [getCameraList, getCameraStatus] as const;

/** Sent to every authenticated client when a camera appears, goes, fails or its stream becomes ready. */
export const cameraStatusUpdate = {
  name: 'camera_status_update',
  summary:
    'A camera was connected, disconnected, failed, or its stream became ready; params are the camera object.',
  params: cameraObject,
};

export type CameraObject = z.input<typeof cameraObject>;
