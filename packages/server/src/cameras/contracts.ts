/** The camera object and the camera methods' contracts (SPEC section 3 and 4). */
import { z } from 'zod';
import { bytes, count, defineMethod, deviceParam, seconds } from '../rpc/index.js';

export const cameraStatus = z
  .enum(['CONNECTED', 'DISCONNECTED', 'ERROR'])
  .describe(
    'CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says why).',
  );

export const cameraObject = z.object({
  device: z
    .string()
    .describe(
      'The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.',
    ),
  status: cameraStatus,
  name: z.string().describe("The camera's name, from the driver or the configuration."),
  resolution: z
    .string()
    .describe(
      'The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).',
    ),
  fps: z
    .number()
    .nonnegative()
    .meta({ description: 'The streamed frame rate; 0 when unknown.', unit: 'frames per second' }),
  streams: z
    .object({
      rtsp: z
        .string()
        .nullable()
        .describe('RTSP URL of the live stream; null when there is no stream (yet).'),
      webrtc: z
        .string()
        .nullable()
        .describe('WebRTC (WHEP) page URL; null when WebRTC is off or there is no stream.'),
      hls: z.string().nullable().describe('HLS playlist URL; null when there is no stream.'),
      credential: z
        .enum(['viewer'])
        .nullable()
        .describe(
          'What watching takes: a credential of the viewer role or above; null: anyone may watch.',
        ),
      token_urls: z
        .object({
          rtsp: z.string().describe('The RTSP URL with the credential as a query parameter.'),
          webrtc: z
            .string()
            .nullable()
            .describe('The WebRTC page URL with it; null when WebRTC is off.'),
          hls: z.string().describe('The HLS playlist URL with it.'),
        })
        .nullable()
        .describe(
          'The stream URLs with a credential in them, `{token}` standing for a JWT or API key: `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes it as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for the player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may watch or there is no stream.',
        ),
    })
    .describe('Where to watch, on the host name the client connected with.'),
  capabilities: z
    .object({
      formats: z
        .array(z.string())
        .describe('Capture formats the device offers (MJPG, YUYV, H264...).'),
      resolutions: z.array(z.string()).describe('Sizes it offers, "WxH".'),
      frame_rates: z.array(z.number()).describe('Frame rates it offers, frames per second.'),
    })
    .describe('What the camera can do, from its probe.'),
  recording: z
    .object({
      active: z.boolean().describe('Whether the camera is recording now.'),
      session_id: z.string().nullable().describe('The recording session; null when not recording.'),
      filename: z.string().nullable().describe('The file being written; null when not recording.'),
      elapsed_seconds: z.number().nonnegative().nullable().meta({
        description: 'How long it has been recording; null when not recording.',
        unit: 'seconds',
      }),
    })
    .describe("The camera's recording."),
  kind: z
    .enum(['v4l2', 'test_pattern', 'url'])
    .describe('v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.'),
  stream_path: z
    .string()
    .describe(
      'The stream name on the media server: camera<N> for /dev/video<N>, the id for declared cameras.',
    ),
  stable_id: z
    .string()
    .nullable()
    .describe(
      '/dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.',
    ),
  driver: z
    .string()
    .nullable()
    .describe('The V4L2 driver (uvcvideo...); null for declared cameras.'),
  bus: z
    .string()
    .nullable()
    .describe('The bus the device is on (usb-0000:00:14.0-2); null when unknown.'),
  capture_format: z
    .string()
    .nullable()
    .describe('The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.'),
  error: z
    .string()
    .nullable()
    .describe('Why the camera is in ERROR, as a sentence; null otherwise.'),
  stream_ready: z
    .boolean()
    .describe('Whether the stream runs now (on-demand streams start with their first reader).'),
});

export const cameraWithMetrics = cameraObject.extend({
  metrics: z
    .object({
      bytes_sent: bytes('Sent to readers since the stream started.'),
      readers: count('Readers of the stream now.'),
      uptime: seconds('How long the stream has been ready; 0 while it is not.'),
    })
    .describe("The stream's figures from the media server."),
});

const noCamera = 'No camera has that device, stream name or id.';
const unavailable = 'The camera is disconnected or in error.';

/** A V4L2 camera streaming, as the examples show it. */
const exampleCamera: z.input<typeof cameraObject> = {
  device: '/dev/video0',
  status: 'CONNECTED',
  name: 'EMEET SmartCam S800',
  resolution: '1920x1080',
  fps: 30,
  streams: {
    rtsp: 'rtsp://edge-box.local:8554/camera0',
    webrtc: 'http://edge-box.local:8889/camera0/',
    hls: 'http://edge-box.local:8888/camera0/index.m3u8',
    credential: 'viewer',
    token_urls: {
      rtsp: 'rtsp://edge-box.local:8554/camera0?token={token}',
      webrtc: 'http://edge-box.local:8889/camera0/?token={token}',
      hls: 'http://edge-box.local:8888/camera0/index.m3u8?token={token}',
    },
  },
  capabilities: {
    formats: ['MJPG', 'YUYV'],
    resolutions: ['1920x1080', '1280x720', '640x480'],
    frame_rates: [30, 15],
  },
  recording: { active: false, session_id: null, filename: null, elapsed_seconds: null },
  kind: 'v4l2',
  stream_path: 'camera0',
  stable_id: '/dev/v4l/by-id/usb-EMEET_SmartCam_S800-video-index0',
  driver: 'uvcvideo',
  bus: 'usb-0000:00:14.0-2',
  capture_format: 'MJPG',
  error: null,
  stream_ready: true,
};

export const getCameraList = defineMethod({
  name: 'get_camera_list',
  summary: 'Lists every known camera, connected or not, with its streams on the host you used.',
  access: 'viewer',
  params: z.strictObject({}),
  result: z.object({
    cameras: z
      .array(cameraObject)
      .describe(
        'Declared cameras first, then V4L2 cameras by node number; unplugged ones stay listed until evicted (camera.max_cameras).',
      ),
    total: count('How many cameras are listed.'),
    connected: count('How many of them are CONNECTED.'),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        cameras: [
          exampleCamera,
          {
            ...exampleCamera,
            device: '/dev/video2',
            status: 'DISCONNECTED',
            name: 'USB Video',
            streams: { rtsp: null, webrtc: null, hls: null, credential: null, token_urls: null },
            stream_path: 'camera2',
            stable_id: null,
            stream_ready: false,
          },
        ],
        total: 2,
        connected: 1,
      },
    },
  ],
});

export const getCameraStatus = defineMethod({
  name: 'get_camera_status',
  summary: "One camera, with its stream's metrics from the media server.",
  access: 'viewer',
  params: z.strictObject({ device: deviceParam }),
  result: cameraWithMetrics,
  errors: {
    camera_not_found: noCamera,
    camera_unavailable: unavailable,
    media_server_error: "The media server does not answer about the camera's stream.",
  },
  examples: [
    {
      params: { device: '/dev/video0' },
      result: { ...exampleCamera, metrics: { bytes_sent: 48213504, readers: 2, uptime: 3600.2 } },
    },
  ],
});

export const cameraContracts = [getCameraList, getCameraStatus] as const;

/** Sent to every authenticated client when a camera appears, goes, fails or its stream becomes ready. */
export const cameraStatusUpdate = {
  name: 'camera_status_update',
  summary:
    'A camera was connected, disconnected, failed, or its stream became ready; params are the camera object.',
  params: cameraObject,
  example: { ...exampleCamera, stream_ready: false },
};

export type CameraObject = z.input<typeof cameraObject>;
