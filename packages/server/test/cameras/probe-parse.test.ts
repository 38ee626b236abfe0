/**
 * The v4l2-ctl parsers on real captured outputs (test/fixtures/v4l2, provenance in
 * SOURCES.md there), on hand-written variants of formats the fixtures lack, and on junk:
 * truncations, seeded mutations and megabytes of noise must never throw or hang.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseCaptureMode } from '../../src/cameras/capture-mode.js';
import type {
  DeviceGroup,
  DeviceInfo,
  FrameSize,
  ParseResult,
  PixelFormat,
} from '../../src/cameras/probe-parse.js';
import {
  MAX_WARNINGS,
  decodeCapabilities,
  parseDeviceInfo,
  parseFormats,
  parseListDevices,
  summarizeCapabilities,
} from '../../src/cameras/probe-parse.js';
import { prng } from '../helpers/prng.js';

// Compiled, this file runs from packages/server/dist/test/cameras/; the fixtures stay in
// the source tree at packages/server/test/fixtures/v4l2/.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/v4l2/', import.meta.url));

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function value<T>(result: ParseResult<T>): T {
  if (!result.ok)
    assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function info(name: string): DeviceInfo {
  const result = parseDeviceInfo(fixture(name));
  const parsed = value(result);
  assert.deepEqual(result.warnings, [], `${name}: no warnings`);
  return parsed;
}

function formats(name: string): PixelFormat[] {
  const result = parseFormats(fixture(name));
  const parsed = value(result);
  assert.deepEqual(result.warnings, [], `${name}: no warnings`);
  return parsed;
}

function groups(name: string): DeviceGroup[] {
  const result = parseListDevices(fixture(name));
  const parsed = value(result);
  assert.deepEqual(result.warnings, [], `${name}: no warnings`);
  return parsed;
}

/** A size as `WxH@fps,fps` (discrete) or `min-max/step` (range), for compact exact checks. */
function sizeText(size: FrameSize): string {
  if (size.kind === 'discrete') {
    return `${size.width}x${size.height}@${size.intervals.map((i) => i.fps).join(',')}`;
  }
  return (
    `${size.kind} ${size.minWidth}x${size.minHeight}-${size.maxWidth}x${size.maxHeight}` +
    `/${size.stepWidth}x${size.stepHeight}`
  );
}

function find(list: readonly PixelFormat[], fourcc: string): PixelFormat {
  const format = list.find((f) => f.fourcc === fourcc);
  assert.ok(format, `format ${fourcc} is listed`);
  return format;
}

const ALL_FIXTURES = [
  'arducam-usb2-camera-0c45-6366-h264-node__info-list-formats-ext.txt',
  'arducam-usb2-camera-0c45-6366__list-devices.txt',
  'bluerobotics-h264-usb-camera__list-formats-ext.txt',
  'emeet-smartcam-s800-metadata-node__all.txt',
  'emeet-smartcam-s800-metadata-node__list-formats-ext.txt',
  'emeet-smartcam-s800__all.txt',
  'emeet-smartcam-s800__list-devices.txt',
  'emeet-smartcam-s800__list-formats-ext.txt',
  'fhd-camera-microphone-1bcf-28c4__all.txt',
  'macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt',
  'raspberry-pi-camera-bcm2835-mmal__all.txt',
  'raspberry-pi-camera-imx708-unicam__all.txt',
  'raspberry-pi-camera-imx708-unicam__list-formats-ext.txt',
  'rockchip-rk3576-kickpi-k7__list-devices.txt',
  'rockchip-rk3576-rkisp-mainpath__list-formats-ext.txt',
];

describe('fixtures', () => {
  it('are all present, each with a row in SOURCES.md', () => {
    const present = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.txt'))
      .sort();
    assert.deepEqual(present, ALL_FIXTURES);
    const sources = readFileSync(join(FIXTURES, 'SOURCES.md'), 'utf8');
    for (const name of ALL_FIXTURES) assert.ok(sources.includes(`\`${name}\``), name);
    assert.ok(sources.includes('## Fidelity'));
  });
});

describe('parseDeviceInfo', () => {
  it('reads a modern UVC --all (EMEET SmartCam S800, /dev/video4)', () => {
    assert.deepEqual(info('emeet-smartcam-s800__all.txt'), {
      driver: 'uvcvideo',
      card: 'EMEET SmartCam S800: EMEET Smar',
      busInfo: 'usb-0000:00:14.0-5',
      driverVersion: '6.8.12',
      capabilities: {
        value: 0x84a00001,
        names: [
          'Video Capture',
          'Metadata Capture',
          'Streaming',
          'Extended Pix Format',
          'Device Capabilities',
        ],
      },
      deviceCaps: {
        value: 0x04200001,
        names: ['Video Capture', 'Streaming', 'Extended Pix Format'],
      },
      capture: true,
      multiplanar: false,
      metadataOnly: false,
      streaming: true,
      serial: '454D4545542020204D3343393430091B0000001',
      currentFormat: {
        bufferType: 'Video Capture',
        width: 3840,
        height: 2160,
        fourcc: 'MJPG',
        description: 'Motion-JPEG',
      },
      metadataFormat: null,
      currentFrameInterval: { numerator: 1, denominator: 30, fps: 30 },
    });
  });

  it('sees the metadata node of the same camera as metadata-only, though Capabilities has Video Capture', () => {
    const node = info('emeet-smartcam-s800-metadata-node__all.txt');
    assert.equal(node.capabilities?.value, 0x84a00001);
    assert.deepEqual(node.deviceCaps, {
      value: 0x04a00000,
      names: ['Metadata Capture', 'Streaming', 'Extended Pix Format'],
    });
    assert.equal(node.capture, false);
    assert.equal(node.metadataOnly, true);
    assert.equal(node.multiplanar, false);
    assert.equal(node.streaming, true);
    assert.equal(node.metadataFormat, 'UVCH');
    assert.equal(node.currentFormat, null);
    assert.equal(node.currentFrameInterval, null);
    assert.equal(node.card, 'EMEET SmartCam S800: EMEET Smar');
  });

  it('reads an older --all (kernel 5.15, FHD Camera Microphone) with its misaligned Flags line', () => {
    const cam = info('fhd-camera-microphone-1bcf-28c4__all.txt');
    assert.equal(cam.driver, 'uvcvideo');
    assert.equal(cam.card, 'FHD Camera Microphone: FHD Came');
    assert.equal(cam.busInfo, 'usb-0000:00:14.0-11');
    assert.equal(cam.driverVersion, '5.15.83');
    assert.equal(cam.deviceCaps?.value, 0x04200001);
    assert.equal(cam.capture, true);
    assert.equal(cam.serial, '01.00.00');
    assert.deepEqual(cam.currentFormat, {
      bufferType: 'Video Capture',
      width: 800,
      height: 600,
      fourcc: 'MJPG',
      description: 'Motion-JPEG',
    });
    assert.deepEqual(cam.currentFrameInterval, { numerator: 1, denominator: 30, fps: 30 });
  });

  it('reads -D followed by --list-formats-ext (Arducam H264 node), ignoring the format list', () => {
    const cam = info('arducam-usb2-camera-0c45-6366-h264-node__info-list-formats-ext.txt');
    assert.equal(cam.driver, 'uvcvideo');
    assert.equal(cam.card, 'USB 2.0 Camera: USB Camera');
    assert.equal(cam.busInfo, 'usb-xhci-hcd.0-1');
    assert.equal(cam.driverVersion, '6.1.73');
    assert.equal(cam.deviceCaps?.value, 0x04200001);
    assert.equal(cam.capture, true);
    assert.equal(cam.metadataOnly, false);
    assert.equal(cam.serial, 'SN0001');
    assert.equal(cam.currentFormat, null);
    assert.equal(cam.currentFrameInterval, null);
  });

  it('reads the MS2109 HDMI dongle: parentheses in the card name, trailing spaces, no media info', () => {
    const cam = info('macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt');
    assert.equal(cam.card, 'UVC Camera (534d:2109): USB Vid');
    assert.equal(cam.busInfo, 'usb-0000:00:14.0-1');
    assert.equal(cam.driverVersion, '5.4.44');
    assert.equal(cam.serial, null);
    assert.equal(cam.capture, true);
    assert.deepEqual(cam.currentFormat, {
      bufferType: 'Video Capture',
      width: 1920,
      height: 1080,
      fourcc: 'MJPG',
      description: 'Motion-JPEG',
    });
    assert.deepEqual(cam.currentFrameInterval, { numerator: 1, denominator: 30, fps: 30 });
  });

  it('reads the legacy Raspberry Pi camera, not mistaking overlay or framebuffer sections for the format', () => {
    const cam = info('raspberry-pi-camera-bcm2835-mmal__all.txt');
    assert.equal(cam.driver, 'bm2835 mmal');
    assert.equal(cam.card, 'mmal service 16.1');
    assert.equal(cam.busInfo, 'platform:bcm2835-v4l2');
    assert.equal(cam.driverVersion, '4.19.97');
    assert.deepEqual(cam.deviceCaps, {
      value: 0x05200005,
      names: ['Video Capture', 'Video Overlay', 'Read/Write', 'Streaming', 'Extended Pix Format'],
    });
    assert.equal(cam.capture, true);
    assert.equal(cam.serial, null);
    // Not the overlay's 1024/768 nor the framebuffer's 'YU12'.
    assert.deepEqual(cam.currentFormat, {
      bufferType: 'Video Capture',
      width: 640,
      height: 480,
      fourcc: 'H264',
      description: 'H.264',
    });
    // "5.000 (5000/1000)", reduced; not the Streaming Parameters' "Capabilities: timeperframe".
    assert.deepEqual(cam.currentFrameInterval, { numerator: 1, denominator: 5, fps: 5 });
    assert.equal(cam.capabilities?.value, 0x85200005);
  });

  it('trusts the bits over the names on unicam (the I/O MC bit has no printed name)', () => {
    const cam = info('raspberry-pi-camera-imx708-unicam__all.txt');
    assert.equal(cam.driver, 'unicam');
    assert.equal(cam.card, 'unicam');
    assert.equal(cam.busInfo, 'platform:fe801000.csi');
    assert.equal(cam.driverVersion, '6.12.34');
    assert.deepEqual(cam.deviceCaps, {
      value: 0x25200001,
      names: ['Video Capture', 'Read/Write', 'Streaming', 'Extended Pix Format'],
    });
    assert.deepEqual(decodeCapabilities(0x25200001), [
      'Video Capture',
      'I/O MC',
      'Read/Write',
      'Streaming',
      'Extended Pix Format',
    ]);
    assert.equal(cam.capture, true);
    assert.equal(cam.serial, null, 'an empty Serial is no serial');
    assert.deepEqual(cam.currentFormat, {
      bufferType: 'Video Capture',
      width: 640,
      height: 480,
      fourcc: 'YUYV',
      description: 'YUYV 4:2:2',
    });
  });

  it('decodes capability values in the order v4l2-ctl prints names', () => {
    assert.deepEqual(
      decodeCapabilities(0x84a00001),
      info('emeet-smartcam-s800__all.txt').capabilities?.names,
    );
    assert.deepEqual(decodeCapabilities(0), []);
  });

  it('derives capture and multiplanar from the Device Caps bits of a multiplanar node', () => {
    const text = [
      'Driver Info:',
      '\tDriver name      : rkisp_v7',
      '\tCard type        : rkisp_mainpath',
      '\tBus info         : platform:rkisp-vir0',
      '\tDriver version   : 6.1.99',
      '\tCapabilities     : 0x84201000',
      '\t\tVideo Capture Multiplanar',
      '\t\tStreaming',
      '\t\tExtended Pix Format',
      '\t\tDevice Capabilities',
      '\tDevice Caps      : 0x04201000',
      '\t\tVideo Capture Multiplanar',
      '\t\tStreaming',
      '\t\tExtended Pix Format',
      'Format Video Capture Multiplanar:',
      '\tWidth/Height      : 1920/1080',
      "\tPixel Format      : 'NV12' (Y/UV 4:2:0)",
      '\tField             : None',
      '\tNumber of planes  : 1',
      '',
    ].join('\n');
    const cam = value(parseDeviceInfo(text));
    assert.equal(cam.capture, true);
    assert.equal(cam.multiplanar, true);
    assert.equal(cam.metadataOnly, false);
    assert.deepEqual(cam.currentFormat, {
      bufferType: 'Video Capture Multiplanar',
      width: 1920,
      height: 1080,
      fourcc: 'NV12',
      description: 'Y/UV 4:2:0',
    });
  });

  it('falls back to Capabilities without Device Caps, and to names when the hex is unreadable', () => {
    const old = [
      'Driver Info (not using libv4l2):',
      '\tDriver name   : gspca_zc3xx',
      '\tCard type     : USB Camera (046d:08d7)',
      '\tBus info      : usb-0000:00:1d.0-1',
      '\tDriver version: 2.6.32',
      '\tCapabilities  : 0x05000001',
      '\t\tVideo Capture',
      '\t\tRead/Write',
      '\t\tStreaming',
    ].join('\n');
    const cam = value(parseDeviceInfo(old));
    assert.equal(cam.deviceCaps, null);
    assert.equal(cam.capabilities?.value, 0x05000001);
    assert.equal(cam.capture, true);
    assert.equal(cam.streaming, true);
    assert.equal(cam.card, 'USB Camera (046d:08d7)');

    const broken = old.replace('0x05000001', '0xZZ');
    const result = parseDeviceInfo(broken);
    const fallback = value(result);
    assert.equal(fallback.capabilities?.value, null);
    assert.equal(fallback.capture, true, 'from the printed name');
    assert.deepEqual(result.warnings, [
      'Line 6: capability value "0xZZ" is not a 32-bit hex number.',
    ]);
  });

  it('refuses text without Driver Info, empty text and non-text with typed errors', () => {
    const list = parseDeviceInfo(fixture('emeet-smartcam-s800__list-formats-ext.txt'));
    assert.equal(list.ok, false);
    if (!list.ok) {
      assert.equal(list.error.code, 'no_driver_info');
      assert.equal(list.error.name, 'ProbeParseError');
      assert.match(list.error.message, /^The output holds no Driver Info/);
    }
    const empty = parseDeviceInfo(' \n\t\r\n');
    assert.equal(!empty.ok && empty.error.code, 'empty_input');
    const notText = parseDeviceInfo(undefined);
    assert.equal(!notText.ok && notText.error.code, 'not_text');
    assert.equal(
      !notText.ok && notText.error.message,
      'Expected the text output of v4l2-ctl --all or --info, got undefined.',
    );
  });
});

describe('parseFormats', () => {
  it('reads the modern style: EMEET S800 MJPG, YUYV and H264 up to 3840x2160', () => {
    const list = formats('emeet-smartcam-s800__list-formats-ext.txt');
    assert.deepEqual(
      list.map((f) => [f.fourcc, f.description, f.compressed, f.flags, f.bufferType]),
      [
        ['MJPG', 'Motion-JPEG', true, ['compressed'], 'Video Capture'],
        ['YUYV', 'YUYV 4:2:2', false, [], 'Video Capture'],
        ['H264', 'H.264', true, ['compressed'], 'Video Capture'],
      ],
    );
    const big = [
      '3840x2160@30,24',
      '2560x1440@30,24',
      '1920x1080@60,30,24',
      '1280x960@60,30,24',
      '1280x720@60,30,24',
      '1024x576@60,30,24',
      '640x480@60,30,24',
      '640x360@60,30,24',
    ];
    assert.deepEqual(find(list, 'MJPG').sizes.map(sizeText), big);
    assert.deepEqual(find(list, 'H264').sizes.map(sizeText), big);
    assert.deepEqual(find(list, 'YUYV').sizes.map(sizeText), big.slice(2));
    const first = find(list, 'MJPG').sizes[0];
    assert.deepEqual(first, {
      kind: 'discrete',
      width: 3840,
      height: 2160,
      intervals: [
        { numerator: 1, denominator: 30, fps: 30 },
        { numerator: 1, denominator: 24, fps: 24 },
      ],
      intervalRanges: [],
    });
  });

  it('reads the old Index/Pixel Format/Name style with tabs (Blue Robotics), merging duplicate sizes', () => {
    const list = formats('bluerobotics-h264-usb-camera__list-formats-ext.txt');
    assert.deepEqual(
      list.map((f) => [f.fourcc, f.description, f.compressed, f.flags, f.bufferType]),
      [
        ['MJPG', 'Motion-JPEG', true, ['compressed'], 'Video Capture'],
        ['YUYV', 'YUYV 4:2:2', false, [], 'Video Capture'],
      ],
    );
    // 1920x1080 is listed first and last for MJPG; 640x480 first and last for YUYV.
    assert.deepEqual(find(list, 'MJPG').sizes.map(sizeText), [
      '1920x1080@30,25,15',
      '1280x720@30,25,15',
      '800x600@30,25,15',
      '640x480@30,25,15',
      '640x360@30,25,15',
      '352x288@30,25,15',
      '320x240@30,25,15',
    ]);
    assert.deepEqual(find(list, 'YUYV').sizes.map(sizeText), [
      '640x480@30,25,15',
      '800x600@15',
      '640x360@30,25,15',
      '352x288@30,25,15',
      '320x240@30,25,15',
    ]);
    const size = find(list, 'YUYV').sizes[1];
    assert.deepEqual(size?.kind === 'discrete' && size.intervals, [
      { numerator: 1, denominator: 15, fps: 15 },
    ]);
  });

  it('reads --list-formats-ext after -D: the Arducam H264-only node, duplicates removed', () => {
    const list = formats('arducam-usb2-camera-0c45-6366-h264-node__info-list-formats-ext.txt');
    assert.equal(list.length, 1);
    const h264 = find(list, 'H264');
    assert.equal(h264.description, 'H.264');
    assert.equal(h264.compressed, true);
    assert.deepEqual(h264.sizes.map(sizeText), [
      '1920x1080@30',
      '1280x720@30',
      '640x480@30',
      '640x360@30',
    ]);
  });

  it('reads --list-formats-ext after --all (MS2109), not taking the current format for one', () => {
    const list = formats('macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt');
    assert.deepEqual(
      list.map((f) => f.fourcc),
      ['MJPG', 'YUYV'],
    );
    assert.deepEqual(find(list, 'MJPG').sizes.map(sizeText), [
      '1920x1080@30,25,20,10,5',
      '1600x1200@30,25,20,10,5',
      '1360x768@30,25,20,10,5',
      '1280x1024@30,25,20,10,5',
      '1280x960@50,30,20,10,5',
      '1280x720@60,50,30,20,10',
      '1024x768@60,50,30,20,10',
      '800x600@60,50,30,20,10',
      '720x576@60,50,30,20,10',
      '720x480@60,50,30,20,10',
      '640x480@60,50,30,20,10',
    ]);
    assert.deepEqual(find(list, 'YUYV').sizes.map(sizeText), [
      '1920x1080@5',
      '1600x1200@5',
      '1360x768@8',
      '1280x1024@8',
      '1280x960@8',
      '1280x720@10',
      '1024x768@10',
      '800x600@20,10,5',
      '720x576@25,20,10,5',
      '720x480@30,20,10,5',
      '640x480@30,20,10,5',
    ]);
  });

  it('reads 51 stepwise formats (imx708 on unicam): two-digit indexes, padded fourccs, nested parentheses', () => {
    const list = formats('raspberry-pi-camera-imx708-unicam__list-formats-ext.txt');
    assert.equal(list.length, 51);
    assert.deepEqual(
      list.slice(43).map((f) => [f.fourcc, f.description]),
      [
        ['GREY', '8-bit Greyscale'],
        ['Y10P', '10-bit Greyscale (MIPI Packed)'],
        ['Y10', '10-bit Greyscale'],
        ['Y12P', '12-bit Greyscale (MIPI Packed)'],
        ['Y12', '12-bit Greyscale'],
        ['Y14P', '14-bit Greyscale (MIPI Packed)'],
        ['Y14', '14-bit Greyscale'],
        ['Y16', '16-bit Greyscale'],
      ],
    );
    assert.equal(find(list, 'pgAA').description, '10-bit Bayer GRGR/BGBG Packed');
    for (const f of list) {
      assert.equal(f.compressed, false);
      assert.equal(f.bufferType, 'Video Capture');
      assert.deepEqual(f.sizes, [
        {
          kind: 'stepwise',
          minWidth: 16,
          maxWidth: 16376,
          stepWidth: 1,
          minHeight: 16,
          maxHeight: 16376,
          stepHeight: 1,
        },
      ]);
    }
  });

  it('reads the multiplanar Rockchip ISP main path with 8-pixel steps', () => {
    const list = formats('rockchip-rk3576-rkisp-mainpath__list-formats-ext.txt');
    assert.deepEqual(
      list.map((f) => [f.fourcc, f.description]),
      [
        ['UYVY', 'UYVY 4:2:2'],
        ['NV16', 'Y/UV 4:2:2'],
        ['NV61', 'Y/VU 4:2:2'],
        ['NV21', 'Y/VU 4:2:0'],
        ['NV12', 'Y/UV 4:2:0'],
        ['NM21', 'Y/VU 4:2:0 (N-C)'],
        ['NM12', 'Y/UV 4:2:0 (N-C)'],
      ],
    );
    for (const f of list) {
      assert.equal(f.bufferType, 'Video Capture Multiplanar');
      assert.deepEqual(f.sizes.map(sizeText), ['stepwise 32x32-3840x2160/8x8']);
    }
  });

  it('gives an empty list for the metadata node, which lists no formats', () => {
    assert.deepEqual(formats('emeet-smartcam-s800-metadata-node__list-formats-ext.txt'), []);
  });

  it('reads interval ranges, continuous sizes, extra flags and fractional rates', () => {
    const text = [
      'ioctl: VIDIOC_ENUM_FMT',
      '\tType: Video Capture',
      '',
      "\t[0]: 'YUYV' (YUYV 4:2:2, emulated)",
      '\t\tSize: Discrete 640x480',
      '\t\t\tInterval: Stepwise 0.033s - 1.000s with step 0.033s (1.000-30.000 fps)',
      '\t\tSize: Discrete 320x240',
      '\t\t\tInterval: Continuous 0.017s - 0.200s (5.000-60.000 fps)',
      '\t\t\tInterval: Discrete 0.033s (29.970 fps)',
      "\t[1]: 'H264' (H.264, compressed, 0x00000100)",
      '\t\tSize: Continuous 2x2 - 1920x1088',
      '\t\tSize: Continuous ',
    ].join('\n');
    const result = parseFormats(text);
    const list = value(result);
    assert.deepEqual(result.warnings, ['Line 12: frame size range "Continuous" cannot be read.']);
    const yuyv = find(list, 'YUYV');
    assert.deepEqual(yuyv.flags, ['emulated']);
    assert.equal(yuyv.compressed, false);
    assert.deepEqual(yuyv.sizes, [
      {
        kind: 'discrete',
        width: 640,
        height: 480,
        intervals: [],
        intervalRanges: [
          {
            kind: 'stepwise',
            min: { numerator: 1, denominator: 30, fps: 30 },
            max: { numerator: 1, denominator: 1, fps: 1 },
            step: { numerator: 33, denominator: 1000, fps: 30.303 },
          },
        ],
      },
      {
        kind: 'discrete',
        width: 320,
        height: 240,
        intervals: [{ numerator: 100, denominator: 2997, fps: 29.97 }],
        intervalRanges: [
          {
            kind: 'continuous',
            min: { numerator: 1, denominator: 60, fps: 60 },
            max: { numerator: 1, denominator: 5, fps: 5 },
            step: null,
          },
        ],
      },
    ]);
    const h264 = find(list, 'H264');
    assert.deepEqual(h264.flags, ['compressed', '0x00000100']);
    assert.equal(h264.description, 'H.264');
    assert.deepEqual(h264.sizes.map(sizeText), ['continuous 2x2-1920x1088/1x1']);
  });

  it('keeps a comma that is part of a description, and reads an emulated old-style format', () => {
    const modern = value(
      parseFormats("ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'XR24' (32-bit BGRX 8-8-8-8, LE)\n"),
    );
    assert.deepEqual(
      modern.map((f) => [f.fourcc, f.description, f.flags]),
      [['XR24', '32-bit BGRX 8-8-8-8, LE', []]],
    );
    const old = value(
      parseFormats(
        "ioctl: VIDIOC_ENUM_FMT\n\tIndex       : 0\n\tType        : Video Capture\n\tPixel Format: 'RGB3' (emulated)\n\tName        : RGB3\n",
      ),
    );
    assert.deepEqual(
      old.map((f) => [f.fourcc, f.description, f.flags, f.compressed]),
      [['RGB3', 'RGB3', ['emulated'], false]],
    );
  });

  it('merges a fourcc listed twice under one buffer type, keeping separate buffer types apart', () => {
    const text = [
      'ioctl: VIDIOC_ENUM_FMT',
      '\tType: Video Capture',
      "\t[0]: 'MJPG' (Motion-JPEG, compressed)",
      '\t\tSize: Discrete 640x480',
      '\t\t\tInterval: Discrete 0.033s (30.000 fps)',
      "\t[1]: 'MJPG' (Motion-JPEG, compressed)",
      '\t\tSize: Discrete 640x480',
      '\t\t\tInterval: Discrete 0.067s (15.000 fps)',
      '\t\tSize: Discrete 320x240',
      'ioctl: VIDIOC_ENUM_FMT',
      '\tType: Video Output',
      "\t[0]: 'MJPG' (Motion-JPEG, compressed)",
    ].join('\n');
    const list = value(parseFormats(text));
    assert.deepEqual(
      list.map((f) => [f.fourcc, f.bufferType, f.sizes.map(sizeText)]),
      [
        ['MJPG', 'Video Capture', ['640x480@30,15', '320x240@']],
        ['MJPG', 'Video Output', []],
      ],
    );
  });

  it('refuses text with no format list, and warns about stray size lines', () => {
    const all = parseFormats(fixture('emeet-smartcam-s800__all.txt'));
    assert.equal(!all.ok && all.error.code, 'no_format_list');
    const stray = parseFormats('ioctl: VIDIOC_ENUM_FMT\n\t\tSize: Discrete 640x480\n');
    assert.deepEqual(value(stray), []);
    assert.deepEqual(stray.warnings, ['Line 2: frame size outside any format.']);
    const zero = parseFormats(
      "ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'YUYV' (YUYV)\n\t\tSize: Discrete 0x480\n",
    );
    assert.deepEqual(value(zero)[0]?.sizes, []);
    assert.deepEqual(zero.warnings, ['Line 3: frame size "0x480" is not WIDTHxHEIGHT.']);
  });
});

describe('parseListDevices', () => {
  it('reads three UVC cameras, each with two video nodes and a media node', () => {
    assert.deepEqual(groups('emeet-smartcam-s800__list-devices.txt'), [
      {
        name: 'IPEVO Ziggi-HD Plus',
        bus: 'usb-0000:00:14.0-10',
        nodes: ['/dev/video0', '/dev/video1'],
        mediaNodes: ['/dev/media0'],
        otherNodes: [],
      },
      {
        name: 'ILCE-7M4',
        bus: 'usb-0000:00:14.0-3',
        nodes: ['/dev/video2', '/dev/video3'],
        mediaNodes: ['/dev/media1'],
        otherNodes: [],
      },
      {
        name: 'EMEET SmartCam S800: EMEET Smar',
        bus: 'usb-0000:00:14.0-5',
        nodes: ['/dev/video4', '/dev/video5'],
        mediaNodes: ['/dev/media2'],
        otherNodes: [],
      },
    ]);
  });

  it('reads one camera with four video nodes (Arducam on a Raspberry Pi)', () => {
    assert.deepEqual(groups('arducam-usb2-camera-0c45-6366__list-devices.txt'), [
      {
        name: 'USB 2.0 Camera: USB Camera',
        bus: 'usb-xhci-hcd.0-1',
        nodes: ['/dev/video8', '/dev/video9', '/dev/video10', '/dev/video11'],
        mediaNodes: ['/dev/media4'],
        otherNodes: [],
      },
    ]);
  });

  it('reads platform bus infos with spaces and a media-only group (RK3576)', () => {
    const list = groups('rockchip-rk3576-kickpi-k7__list-devices.txt');
    assert.deepEqual(
      list.map((g) => [g.name, g.bus, g.nodes.length, g.mediaNodes]),
      [
        ['rkisp-statistics', 'platform: rkisp', 4, []],
        ['rkcif', 'platform:rkcif-mipi-lvds', 11, ['/dev/media0']],
        ['rkcif', 'platform:rkcif-mipi-lvds1', 11, ['/dev/media1']],
        ['rkcif-mipi-lvds3', 'platform:rkcif-mipi-lvds3', 0, ['/dev/media2']],
        ['rkisp_mainpath', 'platform:rkisp-vir0', 7, ['/dev/media3']],
        ['rkisp_mainpath', 'platform:rkisp-vir1', 7, ['/dev/media4']],
        ['rkvpss_scale0', 'platform:rkvpss-vir0', 4, ['/dev/media5']],
        ['rkvpss_scale0', 'platform:rkvpss-vir1', 4, ['/dev/media6']],
        ['rkvpss_scale0', 'platform:rkvpss-vir3', 4, ['/dev/media7']],
      ],
    );
    assert.deepEqual(list[0]?.nodes, [
      '/dev/video39',
      '/dev/video40',
      '/dev/video48',
      '/dev/video49',
    ]);
    assert.deepEqual(list[4]?.nodes, [
      '/dev/video33',
      '/dev/video34',
      '/dev/video35',
      '/dev/video36',
      '/dev/video37',
      '/dev/video38',
      '/dev/video41',
    ]);
  });

  it('splits a card name holding parentheses, drops link aliases, sorts other nodes apart', () => {
    const text = [
      'UVC Camera (534d:2109): USB Vid (usb-0000:00:14.0-1):',
      '\t/dev/video0 <- /dev/video',
      '\t/dev/video1',
      '\t/dev/media0',
      '',
      'Cannot open device /dev/video9, exiting.',
      'tuner (platform:vivid-000):',
      '\t/dev/v4l-subdev0',
      '\t/dev/vbi0',
      '\t/dev/radio0',
    ].join('\n');
    const result = parseListDevices(text);
    assert.deepEqual(value(result), [
      {
        name: 'UVC Camera (534d:2109): USB Vid',
        bus: 'usb-0000:00:14.0-1',
        nodes: ['/dev/video0', '/dev/video1'],
        mediaNodes: ['/dev/media0'],
        otherNodes: [],
      },
      {
        name: 'tuner',
        bus: 'platform:vivid-000',
        nodes: [],
        mediaNodes: [],
        otherNodes: ['/dev/v4l-subdev0', '/dev/vbi0', '/dev/radio0'],
      },
    ]);
    assert.deepEqual(result.warnings, [
      'Line 6: "Cannot open device /dev/video9, exiting." is not a device group header.',
    ]);
  });

  it('takes blank output as no device, and refuses other text', () => {
    assert.deepEqual(value(parseListDevices('')), []);
    const other = parseListDevices(fixture('emeet-smartcam-s800__all.txt'));
    assert.equal(!other.ok && other.error.code, 'no_device_list');
    assert.equal(other.warnings.length, MAX_WARNINGS + 1, 'warnings are capped');
    assert.match(other.warnings[MAX_WARNINGS] ?? '', /^\d+ more warnings were left out\.$/);
    const notText = parseListDevices(42);
    assert.equal(!notText.ok && notText.error.code, 'not_text');
  });
});

describe('summarizeCapabilities', () => {
  it('lists fourccs, unique sizes largest first and unique rates highest first (EMEET S800)', () => {
    assert.deepEqual(summarizeCapabilities(formats('emeet-smartcam-s800__list-formats-ext.txt')), {
      formats: ['MJPG', 'YUYV', 'H264'],
      resolutions: [
        '3840x2160',
        '2560x1440',
        '1920x1080',
        '1280x960',
        '1280x720',
        '1024x576',
        '640x480',
        '640x360',
      ],
      frame_rates: [60, 30, 24],
    });
  });

  it('orders by area (MS2109: 1280x1024 before 1360x768)', () => {
    const caps = summarizeCapabilities(
      formats('macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt'),
    );
    assert.deepEqual(caps.resolutions, [
      '1920x1080',
      '1600x1200',
      '1280x1024',
      '1280x960',
      '1360x768',
      '1280x720',
      '1024x768',
      '800x600',
      '720x576',
      '720x480',
      '640x480',
    ]);
    assert.deepEqual(caps.frame_rates, [60, 50, 30, 25, 20, 10, 8, 5]);
  });

  it('offers the common sizes a range allows (RK ISP, 8-pixel steps)', () => {
    const caps = summarizeCapabilities(
      formats('rockchip-rk3576-rkisp-mainpath__list-formats-ext.txt'),
    );
    assert.deepEqual(caps.formats, ['UYVY', 'NV16', 'NV61', 'NV21', 'NV12', 'NM21', 'NM12']);
    // Every common size is a multiple of 8, like the minimum 32, so all up to the maximum fit.
    assert.deepEqual(caps.resolutions, [
      '3840x2160',
      '2592x1944',
      '2560x1440',
      '1920x1080',
      '1600x1200',
      '1280x960',
      '1280x720',
      '1024x768',
      '800x600',
      '640x480',
      '640x360',
      '352x288',
      '320x240',
      '176x144',
      '160x120',
    ]);
    assert.deepEqual(caps.frame_rates, []);
  });

  it('falls back to a range maximum when no common size fits, and spreads interval ranges', () => {
    const text = [
      'ioctl: VIDIOC_ENUM_FMT',
      "\t[0]: 'GREY' (8-bit Greyscale)",
      '\t\tSize: Stepwise 100x100 - 300x200 with step 7/7',
      '\t\tSize: Discrete 320x240',
      '\t\t\tInterval: Continuous 0.040s - 0.200s (5.000-25.000 fps)',
    ].join('\n');
    assert.deepEqual(summarizeCapabilities(value(parseFormats(text))), {
      formats: ['GREY'],
      resolutions: ['320x240', '300x200'],
      frame_rates: [25, 24, 20, 15, 10, 5],
    });
  });

  it('is empty for the metadata node', () => {
    assert.deepEqual(
      summarizeCapabilities(formats('emeet-smartcam-s800-metadata-node__list-formats-ext.txt')),
      { formats: [], resolutions: [], frame_rates: [] },
    );
  });
});

describe('robustness', () => {
  type Parser = (text: unknown) => ParseResult<unknown>;
  const parsers: Parser[] = [parseDeviceInfo, parseFormats, parseListDevices];

  /** Runs every parser and what consumes their results; a throw fails the test. */
  function exercise(text: unknown): void {
    for (const parse of parsers) {
      const result = parse(text);
      assert.equal(typeof result.ok, 'boolean');
      assert.ok(result.warnings.length <= MAX_WARNINGS + 1);
      if (!result.ok) assert.equal(result.error.name, 'ProbeParseError');
    }
    const list = parseFormats(text);
    if (list.ok) {
      summarizeCapabilities(list.value);
      chooseCaptureMode(list.value);
      chooseCaptureMode(list.value, { target: { width: 1280, height: 720, fps: 60 } });
    }
  }

  function timed(label: string, limitMs: number, run: () => void): void {
    const start = performance.now();
    run();
    const elapsed = performance.now() - start;
    assert.ok(elapsed < limitMs, `${label} took ${Math.round(elapsed)} ms (limit ${limitMs} ms)`);
  }

  it('gives the same results for CRLF and lone-CR line endings', () => {
    for (const name of ALL_FIXTURES) {
      const text = fixture(name);
      for (const parse of parsers) {
        assert.deepEqual(parse(text.replaceAll('\n', '\r\n')), parse(text), `${name} CRLF`);
        assert.deepEqual(parse(text.replaceAll('\n', '\r')), parse(text), `${name} CR`);
      }
    }
  });

  it('survives every fixture truncated at every 7th byte', () => {
    for (const name of ALL_FIXTURES) {
      const bytes = readFileSync(join(FIXTURES, name));
      timed(`truncating ${name}`, 5000, () => {
        for (let end = 0; end <= bytes.length; end += 7) {
          exercise(bytes.subarray(0, end).toString('utf8'));
        }
      });
    }
  });

  it('lists a prefix of the formats when a format list is cut at a line end', () => {
    for (const name of ALL_FIXTURES.filter((n) => n.includes('list-formats-ext'))) {
      const text = fixture(name);
      const full = value(parseFormats(text)).map((f) => f.fourcc);
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', end + 1)) {
        const cut = parseFormats(text.slice(0, end));
        if (!cut.ok) continue;
        const got = cut.value.map((f) => f.fourcc);
        assert.deepEqual(got, full.slice(0, got.length), `${name} cut at ${end}`);
      }
    }
  });

  it('survives 6,000 seeded byte mutations of the fixtures', () => {
    const rand = prng(20261122);
    const interesting = Buffer.from("\t\n\r :'()[]x-/0123456789.,<", 'latin1');
    timed('mutations', 20000, () => {
      for (const name of ALL_FIXTURES) {
        const original = readFileSync(join(FIXTURES, name));
        for (let round = 0; round < 400; round += 1) {
          const bytes = [...original];
          const edits = 1 + Math.floor(rand() * 8);
          for (let e = 0; e < edits; e += 1) {
            const pos = Math.floor(rand() * (bytes.length + 1));
            const byte =
              rand() < 0.5
                ? (interesting[Math.floor(rand() * interesting.length)] as number)
                : Math.floor(rand() * 256);
            const op = rand();
            if (op < 0.3) bytes.splice(pos, 1);
            else if (op < 0.6) bytes.splice(pos, 0, byte);
            else bytes[pos] = byte;
          }
          const buf = Buffer.from(bytes);
          exercise(buf.toString(round % 2 === 0 ? 'utf8' : 'latin1'));
        }
      }
    });
  });

  it('answers quickly on a megabyte of junk of several kinds', () => {
    const rand = prng(7);
    const random = Buffer.alloc(1 << 20);
    for (let i = 0; i < random.length; i += 1) random[i] = Math.floor(rand() * 256);
    const junk: Array<[string, string]> = [
      ['random bytes as UTF-8', random.toString('utf8')],
      ['random bytes as Latin-1', random.toString('latin1')],
      ['one long line of spaces', `${' '.repeat(1 << 20)}x`],
      ['long lines of spaces', `${' '.repeat(4000)}x\n`.repeat(260)],
      ['colons', ':'.repeat(1 << 20)],
      ['tab-indented parentheses', `\t${'('.repeat(4000)}\n`.repeat(260)],
      [
        'repeated sizes',
        `ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'YUYV' (YUYV 4:2:2)\n${'\t\tSize: Discrete 640x480\n\t\t\tInterval: Discrete 0.033s (30.000 fps)\n'.repeat(12000)}`,
      ],
      [
        'many distinct sizes',
        `ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'YUYV' (YUYV 4:2:2)\n${Array.from({ length: 40000 }, (_, i) => `\t\tSize: Discrete ${i + 1}x${i + 1}\n`).join('')}`,
      ],
      ['near-miss intervals', `\t\t\tInterval: Discrete ${'1'.repeat(4000)}s (\n`.repeat(260)],
      ['group headers', `${'x ('.repeat(1300)}):\n`.repeat(260)],
    ];
    for (const [label, text] of junk) timed(label, 5000, () => exercise(text));
  });

  it('refuses non-text input with a typed error', () => {
    for (const input of [undefined, null, 42, {}, Buffer.from('Driver Info:')]) {
      for (const parse of parsers) {
        const result = parse(input);
        assert.equal(!result.ok && result.error.code, 'not_text');
      }
    }
  });
});
