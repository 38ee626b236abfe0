/**
 * What the filesystem says about a V4L2 node besides its probe: the stable `/dev/v4l/by-id`
 * link udev makes for it, the kernel's name for it in sysfs, and whether it is still there.
 */
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

/** The `<deviceDir>/v4l/by-id` link pointing at this node, if any (the first by name). */
export async function stableIdOf(deviceDir: string, node: string): Promise<string | null> {
  const dir = join(deviceDir, 'v4l', 'by-id');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const name of names.sort()) {
    const link = join(dir, name);
    try {
      const target = resolve(dir, await readlink(link));
      if (target === resolve(node)) return link;
    } catch {
      // not a link
    }
  }
  return null;
}

/** `<sysfsDir>/videoN/name`: the kernel's name for the node, without probing. */
export async function sysfsNameOf(sysfsDir: string, node: string): Promise<string | null> {
  try {
    const text = await readFile(join(sysfsDir, basename(node), 'name'), 'utf8');
    return text.trim() || null;
  } catch {
    return null;
  }
}

/** Whether the device node is still there (a character device, or a file in tests). */
export async function nodeExists(node: string): Promise<boolean> {
  try {
    await stat(node);
    return true;
  } catch {
    return false;
  }
}
