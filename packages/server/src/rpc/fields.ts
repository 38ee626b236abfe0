/**
 * Described schemas the contracts share: each carries what the API reference shows of it
 * (its description, and its unit as `unit` metadata), so a field reads the same wherever
 * it appears.
 */
import { z } from 'zod';

/** A whole number that cannot be negative (a count, a size). */
export function count(description: string): z.ZodNumber {
  return z.number().int().nonnegative().describe(description);
}

/** A size in bytes. */
export function bytes(description: string): z.ZodNumber {
  return z.number().int().nonnegative().meta({ description, unit: 'bytes' });
}

/** A length of time in seconds, not negative. */
export function seconds(description: string): z.ZodNumber {
  return z.number().nonnegative().meta({ description, unit: 'seconds' });
}

/** A point in time: ISO 8601 in UTC, e.g. 2025-06-01T14:30:00.000Z. */
export function timestamp(description: string): z.ZodISODateTime {
  return z.iso.datetime().meta({ description, unit: 'ISO 8601 UTC' });
}

/** The `device` parameter: a camera by device, stream name or declared id. */
export const deviceParam = z
  .string({ error: 'expected the camera device, e.g. "/dev/video0", or its stream name "camera0"' })
  .min(1, {
    error: 'expected the camera device, e.g. "/dev/video0", or its stream name "camera0"',
  })
  .max(256, { error: 'expected a device name of at most 256 characters' })
  .describe(
    'The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a declared camera.',
  );
