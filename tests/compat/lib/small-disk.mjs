// A small tmpfs for full-disk tests: mounting needs root (CI runs as root);
// elsewhere mountSmallDisk returns { skip: 'why' } and the test skips.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function mountSmallDisk(megabytes) {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmdirSync(dir);
    return { skip: `cannot mount a ${megabytes} MB tmpfs (${String(e.stderr || e.message).trim()}): run as root to test a full disk` };
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    // Writes a file until the disk is full.
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 4096, 1]) {
          const chunk = Buffer.alloc(size, 0x66);
          for (;;) {
            try {
              if (writeSync(fd, chunk) < size) break;
            } catch (e) {
              if (e.code === 'ENOSPC') break;
              throw e;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      unlinkSync(filler);
    },
    // Unmounts (lazily: a process still holding files cannot keep it) and removes the directory.
    unmount() {
      execFileSync('umount', ['-l', dir]);
      rmdirSync(dir);
    },
  };
}
