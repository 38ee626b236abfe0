/**
 * The capture-mode rule on the formats of real cameras (test/fixtures/v4l2) and on small
 * hand-written lists for the cases the fixtures lack.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type {
  CaptureMode,
  CaptureModeChoice,
  CaptureModeFailureCode,
} from '../../src/cameras/capture-mode.js';
import {
  DEFAULT_TARGET,
  chooseCaptureMode,
  ffmpegInputFormat,
} from '../../src/cameras/capture-mode.js';
import type { PixelFormat } from '../../src/cameras/probe-parse.js';
import { parseFormats } from '../../src/cameras/probe-parse.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/v4l2/', import.meta.url));

function formatsOf(text: string): PixelFormat[] {
  const result = parseFormats(text);
  if (!result.ok) assert.fail(result.error.message);
  return result.value;
}

function fixtureFormats(name: string): PixelFormat[] {
  return formatsOf(readFileSync(join(FIXTURES, name), 'utf8'));
}

function mode(choice: CaptureModeChoice): CaptureMode {
  if (!choice.ok) assert.fail(`expected a mode, got ${choice.code}: ${choice.reason}`);
  return choice.mode;
}

/** The mode as `FOURCC inputFormat WxH@framerate`, for compact exact checks. */
function brief(choice: CaptureModeChoice): string {
  const m = mode(choice);
  return `${m.fourcc} ${m.inputFormat} ${m.width}x${m.height}@${m.framerate}`;
}

function refusal(choice: CaptureModeChoice, code: CaptureModeFailureCode): string {
  if (choice.ok) assert.fail(`expected ${code}, got ${JSON.stringify(choice.mode)}`);
  assert.equal(choice.code, code);
  return choice.reason;
}

const emeet = fixtureFormats('emeet-smartcam-s800__list-formats-ext.txt');
const blueRobotics = fixtureFormats('bluerobotics-h264-usb-camera__list-formats-ext.txt');
const arducamH264 = fixtureFormats(
  'arducam-usb2-camera-0c45-6366-h264-node__info-list-formats-ext.txt',
);
const ms2109 = fixtureFormats('macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt');
const imx708 = fixtureFormats('raspberry-pi-camera-imx708-unicam__list-formats-ext.txt');
const rkisp = fixtureFormats('rockchip-rk3576-rkisp-mainpath__list-formats-ext.txt');
const metadataNode = fixtureFormats('emeet-smartcam-s800-metadata-node__list-formats-ext.txt');

describe('ffmpegInputFormat', () => {
  it("maps fourccs to ffmpeg's -input_format names", () => {
    const cases: Array<[string, string | null]> = [
      ['MJPG', 'mjpeg'],
      ['JPEG', 'mjpeg'],
      ['YUYV', 'yuyv422'],
      ['H264', 'h264'],
      ['NV12', 'nv12'],
      ['YU12', 'yuv420p'],
      ['UYVY', 'uyvy422'],
      ['GREY', 'gray'],
      ['Y16', 'gray16le'],
      ['Y16 ', 'gray16le'],
      ['BA81', 'bayer_bggr8'],
      ['RGB3', 'rgb24'],
      ['YV12', null],
      ['NV21', null],
      ['Y10', null],
      ['UVCH', null],
      ['toString', null],
    ];
    for (const [fourcc, name] of cases) assert.equal(ffmpegInputFormat(fourcc), name, fourcc);
  });
});

describe('chooseCaptureMode on real cameras', () => {
  it('defaults to 640x480 at 30 fps', () => {
    assert.deepEqual(DEFAULT_TARGET, { width: 640, height: 480, fps: 30 });
  });

  it('EMEET S800: raw YUYV at 640x480, MJPEG at 1280x720 and 1920x1080', () => {
    assert.deepEqual(mode(chooseCaptureMode(emeet)), {
      fourcc: 'YUYV',
      inputFormat: 'yuyv422',
      width: 640,
      height: 480,
      fps: 30,
      framerate: '30',
      bufferType: 'Video Capture',
      notes: [],
    });
    // YUYV offers 1280x720 at 30 fps too, but MJPEG wins above 640x480.
    assert.equal(
      brief(chooseCaptureMode(emeet, { target: { width: 1280, height: 720 } })),
      'MJPG mjpeg 1280x720@30',
    );
    assert.equal(
      brief(chooseCaptureMode(emeet, { target: { width: 1920, height: 1080, fps: 60 } })),
      'MJPG mjpeg 1920x1080@60',
    );
    // 4K offers 30 and 24 only: the highest at or below 60.
    assert.equal(
      brief(chooseCaptureMode(emeet, { target: { width: 3840, height: 2160, fps: 60 } })),
      'MJPG mjpeg 3840x2160@30',
    );
  });

  it('EMEET S800: honours overrides it can satisfy', () => {
    assert.equal(
      brief(chooseCaptureMode(emeet, { override: { format: 'h264' } })),
      'H264 h264 640x480@30',
    );
    assert.equal(
      brief(
        chooseCaptureMode(emeet, {
          override: { format: 'H264', width: 1920, height: 1080, fps: 60 },
        }),
      ),
      'H264 h264 1920x1080@60',
    );
    assert.equal(
      brief(chooseCaptureMode(emeet, { override: { fps: 24 } })),
      'YUYV yuyv422 640x480@24',
    );
    assert.equal(
      brief(chooseCaptureMode(emeet, { override: { width: 2560, height: 1440 } })),
      'MJPG mjpeg 2560x1440@30',
    );
  });

  it('EMEET S800: refuses overrides it cannot satisfy, saying what it offers', () => {
    assert.equal(
      refusal(chooseCaptureMode(emeet, { override: { fps: 25 } }), 'fps_not_offered'),
      'The camera does not offer 25 fps in MJPG, YUYV, H264; it offers 60, 30, 24 fps.',
    );
    assert.equal(
      refusal(
        chooseCaptureMode(emeet, { override: { width: 3840, height: 2160, fps: 60 } }),
        'fps_not_offered',
      ),
      'The camera does not offer 60 fps at 3840x2160 in MJPG, YUYV, H264; it offers 30, 24 fps.',
    );
    assert.equal(
      refusal(
        chooseCaptureMode(emeet, { override: { width: 800, height: 600 } }),
        'size_not_offered',
      ),
      'The camera does not offer 800x600 in MJPG, YUYV, H264; it offers 3840x2160, 2560x1440, ' +
        '1920x1080, 1280x960, 1280x720, 1024x576, 640x480, 640x360.',
    );
    assert.equal(
      refusal(
        chooseCaptureMode(emeet, { override: { format: 'YUYV', width: 3840, height: 2160 } }),
        'size_not_offered',
      ),
      'The camera does not offer 3840x2160 in YUYV; it offers 1920x1080, 1280x960, 1280x720, ' +
        '1024x576, 640x480, 640x360.',
    );
    assert.equal(
      refusal(chooseCaptureMode(emeet, { override: { format: 'NV12' } }), 'format_not_offered'),
      'The camera does not offer the format NV12; it offers MJPG, YUYV, H264.',
    );
  });

  it('Blue Robotics (old output style): YUYV at 640x480, MJPEG where YUYV is slow', () => {
    assert.equal(brief(chooseCaptureMode(blueRobotics)), 'YUYV yuyv422 640x480@30');
    // At 800x600 YUYV runs at 15 fps only, MJPEG at 30.
    assert.equal(
      brief(chooseCaptureMode(blueRobotics, { target: { width: 800, height: 600 } })),
      'MJPG mjpeg 800x600@30',
    );
    assert.equal(
      brief(chooseCaptureMode(blueRobotics, { target: { width: 1280, height: 720 } })),
      'MJPG mjpeg 1280x720@30',
    );
    assert.equal(
      brief(
        chooseCaptureMode(blueRobotics, {
          override: { format: 'yuyv422', width: 800, height: 600 },
        }),
      ),
      'YUYV yuyv422 800x600@15',
    );
    // Not offered: 1024x768; the largest size inside it is 800x600.
    assert.equal(
      brief(chooseCaptureMode(blueRobotics, { target: { width: 1024, height: 768 } })),
      'MJPG mjpeg 800x600@30',
    );
  });

  it('Arducam H264-only node: h264', () => {
    assert.equal(brief(chooseCaptureMode(arducamH264)), 'H264 h264 640x480@30');
    assert.equal(
      brief(chooseCaptureMode(arducamH264, { target: { width: 1920, height: 1080 } })),
      'H264 h264 1920x1080@30',
    );
    assert.equal(
      refusal(
        chooseCaptureMode(arducamH264, { override: { format: 'mjpeg' } }),
        'format_not_offered',
      ),
      'The camera does not offer the format mjpeg; it offers H264.',
    );
  });

  it('MS2109 HDMI dongle: frame rate decides between MJPEG and YUYV', () => {
    assert.equal(brief(chooseCaptureMode(ms2109)), 'YUYV yuyv422 640x480@30');
    assert.equal(
      brief(chooseCaptureMode(ms2109, { target: { width: 1280, height: 720, fps: 60 } })),
      'MJPG mjpeg 1280x720@60',
    );
    assert.equal(
      brief(chooseCaptureMode(ms2109, { target: { width: 1920, height: 1080 } })),
      'MJPG mjpeg 1920x1080@30',
    );
    assert.equal(
      brief(chooseCaptureMode(ms2109, { target: { width: 1366, height: 768 } })),
      'MJPG mjpeg 1360x768@30',
    );
    // Nothing fits inside 320x240: the smallest offered size.
    assert.equal(
      brief(chooseCaptureMode(ms2109, { target: { width: 320, height: 240 } })),
      'YUYV yuyv422 640x480@30',
    );
    // At 720x576 YUYV tops out at 25 fps.
    assert.equal(
      brief(chooseCaptureMode(ms2109, { override: { format: 'YUYV', width: 720, height: 576 } })),
      'YUYV yuyv422 720x576@25',
    );
    assert.equal(
      brief(chooseCaptureMode(ms2109, { override: { format: 'YUYV', width: 1920, height: 1080 } })),
      'YUYV yuyv422 1920x1080@5',
    );
  });

  it('imx708 on unicam: stepwise sizes give the target itself, rate unverified', () => {
    assert.deepEqual(mode(chooseCaptureMode(imx708)), {
      fourcc: 'YUYV',
      inputFormat: 'yuyv422',
      width: 640,
      height: 480,
      fps: 30,
      framerate: '30',
      bufferType: 'Video Capture',
      notes: [
        'The camera lists no frame intervals for 640x480 YUYV; 30 fps is asked for and the ' +
          'driver may adjust it.',
      ],
    });
    assert.equal(
      brief(chooseCaptureMode(imx708, { target: { width: 1366, height: 768 } })),
      'YUYV yuyv422 1366x768@30',
    );
    assert.equal(
      brief(chooseCaptureMode(imx708, { override: { format: 'ba81', fps: 15 } })),
      'BA81 bayer_bggr8 640x480@15',
    );
    assert.match(
      refusal(chooseCaptureMode(imx708, { override: { format: 'Y10' } }), 'format_not_readable'),
      /^ffmpeg cannot read the format Y10 from a V4L2 device; choose one of YUYV, UYVY, RGBP, .* and 3 more\.$/,
    );
    const packedBayer = imx708.filter((f) => f.fourcc.startsWith('p'));
    assert.equal(
      refusal(chooseCaptureMode(packedBayer), 'no_usable_format'),
      "ffmpeg's v4l2 input reads none of the camera's formats (pBAA, pGAA, pgAA, pRAA, pBCC, " +
        'pGCC, pgCC, pRCC, pBEE, pGEE, pgEE, pREE).',
    );
  });

  it('Rockchip ISP main path: NV12 on the 8-pixel grid, with the multiplanar caveat', () => {
    const chosen = mode(chooseCaptureMode(rkisp));
    assert.equal(brief({ ok: true, mode: chosen }), 'NV12 nv12 640x480@30');
    assert.equal(chosen.bufferType, 'Video Capture Multiplanar');
    assert.equal(chosen.notes.length, 2);
    assert.match(
      chosen.notes[1] ?? '',
      /multiplanar buffers, which ffmpeg's v4l2 input does not open/,
    );
    // 1366x770 clamps onto the grid from 32 in steps of 8, rounding down.
    assert.equal(
      brief(chooseCaptureMode(rkisp, { target: { width: 1366, height: 770 } })),
      'NV12 nv12 1360x768@30',
    );
    assert.equal(
      brief(chooseCaptureMode(rkisp, { target: { width: 5000, height: 5000 } })),
      'NV12 nv12 3840x2160@30',
    );
    assert.equal(
      brief(chooseCaptureMode(rkisp, { target: { width: 16, height: 16 } })),
      'NV12 nv12 32x32@30',
    );
    assert.equal(
      brief(chooseCaptureMode(rkisp, { override: { width: 648, height: 480, fps: 15 } })),
      'NV12 nv12 648x480@15',
    );
    assert.equal(
      refusal(
        chooseCaptureMode(rkisp, { override: { width: 641, height: 480 } }),
        'size_not_offered',
      ),
      'The camera does not offer 641x480 in UYVY, NV12; it offers 32x32 to 3840x2160 in steps of 8x8.',
    );
    assert.equal(
      refusal(chooseCaptureMode(rkisp, { override: { format: 'MJPG' } }), 'format_not_offered'),
      'The camera does not offer the format MJPG; it offers UYVY, NV16, NV61, NV21, NV12, NM21, NM12.',
    );
  });

  it('refuses the metadata node and an empty list', () => {
    const reason = 'The device lists no video capture format (a metadata-only node lists none).';
    assert.equal(refusal(chooseCaptureMode(metadataNode), 'no_formats'), reason);
    assert.equal(refusal(chooseCaptureMode([]), 'no_formats'), reason);
  });
});

describe('chooseCaptureMode on hand-written lists', () => {
  const ntsc = formatsOf(
    [
      'ioctl: VIDIOC_ENUM_FMT',
      "\t[0]: 'YUYV' (YUYV 4:2:2)",
      '\t\tSize: Discrete 640x480',
      '\t\t\tInterval: Discrete 0.033s (29.970 fps)',
      '\t\t\tInterval: Discrete 0.067s (14.985 fps)',
    ].join('\n'),
  );

  it('gives an exact -framerate for fractional rates, and matches a 30 fps override to 29.97', () => {
    assert.equal(brief(chooseCaptureMode(ntsc)), 'YUYV yuyv422 640x480@2997/100');
    assert.equal(mode(chooseCaptureMode(ntsc)).fps, 29.97);
    assert.equal(
      brief(chooseCaptureMode(ntsc, { override: { fps: 30 } })),
      'YUYV yuyv422 640x480@2997/100',
    );
    assert.equal(
      brief(chooseCaptureMode(ntsc, { target: { fps: 20 } })),
      'YUYV yuyv422 640x480@2997/200',
    );
  });

  it('takes the target inside an interval range, the range edge outside it', () => {
    const ranged = formatsOf(
      [
        'ioctl: VIDIOC_ENUM_FMT',
        "\t[0]: 'YUYV' (YUYV 4:2:2)",
        '\t\tSize: Discrete 640x480',
        '\t\t\tInterval: Continuous 0.017s - 0.200s (5.000-60.000 fps)',
      ].join('\n'),
    );
    assert.equal(brief(chooseCaptureMode(ranged)), 'YUYV yuyv422 640x480@30');
    assert.equal(
      brief(chooseCaptureMode(ranged, { target: { fps: 100 } })),
      'YUYV yuyv422 640x480@60',
    );
    assert.equal(
      brief(chooseCaptureMode(ranged, { override: { fps: 12.5 } })),
      'YUYV yuyv422 640x480@12.5',
    );
    assert.equal(
      refusal(chooseCaptureMode(ranged, { override: { fps: 90 } }), 'fps_not_offered'),
      'The camera does not offer 90 fps in YUYV; it offers 60 fps.',
    );
  });

  it('goes above the target rate only when nothing is at or below it', () => {
    const fast = formatsOf(
      [
        'ioctl: VIDIOC_ENUM_FMT',
        "\t[0]: 'MJPG' (Motion-JPEG, compressed)",
        '\t\tSize: Discrete 640x480',
        '\t\t\tInterval: Discrete 0.008s (120.000 fps)',
        '\t\t\tInterval: Discrete 0.017s (60.000 fps)',
      ].join('\n'),
    );
    assert.equal(brief(chooseCaptureMode(fast)), 'MJPG mjpeg 640x480@60');
  });

  it('prefers the format reaching the target rate over the preferred layout', () => {
    const mixed = formatsOf(
      [
        'ioctl: VIDIOC_ENUM_FMT',
        "\t[0]: 'YUYV' (YUYV 4:2:2)",
        '\t\tSize: Discrete 640x480',
        '\t\t\tInterval: Discrete 0.067s (15.000 fps)',
        "\t[1]: 'MJPG' (Motion-JPEG, compressed)",
        '\t\tSize: Discrete 640x480',
        '\t\t\tInterval: Discrete 0.033s (30.000 fps)',
        "\t[2]: 'NV12' (Y/UV 4:2:0)",
        '\t\tSize: Discrete 640x480',
        '\t\t\tInterval: Discrete 0.033s (30.000 fps)',
      ].join('\n'),
    );
    assert.equal(brief(chooseCaptureMode(mixed)), 'NV12 nv12 640x480@30');
    assert.equal(
      brief(chooseCaptureMode(mixed, { override: { fps: 15 } })),
      'YUYV yuyv422 640x480@15',
    );
  });

  it('refuses malformed overrides and targets', () => {
    const cases: Array<[Parameters<typeof chooseCaptureMode>[1], string]> = [
      [{ override: { width: 640 } }, 'A size override needs both a width and a height.'],
      [{ override: { height: 480 } }, 'A size override needs both a width and a height.'],
      [
        { override: { width: 0, height: 480 } },
        'A size override needs positive whole numbers and a frame rate override a positive number.',
      ],
      [
        { override: { width: 640.5, height: 480 } },
        'A size override needs positive whole numbers and a frame rate override a positive number.',
      ],
      [
        { override: { fps: Number.NaN } },
        'A size override needs positive whole numbers and a frame rate override a positive number.',
      ],
      [{ target: { fps: -1 } }, 'The target size and frame rate must be positive.'],
    ];
    for (const [options, reason] of cases) {
      assert.equal(refusal(chooseCaptureMode(emeet, options), 'invalid_override'), reason);
    }
  });

  it('refuses formats that list no size', () => {
    const bare = formatsOf("ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'MJPG' (Motion-JPEG, compressed)\n");
    assert.equal(
      refusal(chooseCaptureMode(bare), 'no_usable_format'),
      'The camera lists no frame size for MJPG.',
    );
  });

  it('ignores formats of other buffer types', () => {
    const output = emeet.map((f) => ({ ...f, bufferType: 'Video Output' }));
    assert.equal(refusal(chooseCaptureMode(output), 'no_formats').length > 0, true);
  });
});
