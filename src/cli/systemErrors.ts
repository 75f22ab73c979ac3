/**
 * File-system and operating-system errors (EROFS, ENOSPC, EACCES, ENOTDIR…) as messages that name the path and
 * say what to do: they are about the user's disk or input, not bugs, so the CLI exits with code 2 and no stack.
 */

const MEANINGS: Readonly<Record<string, readonly [string, string]>> = {
  EROFS: ['is on a read-only file system', 'Choose a folder on a writable disk (--out, --activations, --cache-dir).'],
  ENOSPC: [': no space left on the device', 'Free some space or choose a folder on another disk; nothing half-written was kept.'],
  EDQUOT: [': disk quota exceeded', 'Free some space or choose a folder on another disk.'],
  EACCES: [': permission denied', 'Check the permissions, or choose another folder.'],
  EPERM: [': operation not permitted', 'Check the permissions, or choose another folder.'],
  EEXIST: ['already exists', 'Choose another name, or remove it yourself.'],
  ENOTDIR: [': a part of this path is a file, not a folder', 'Check the path.'],
  EISDIR: ['is a folder, where a file was expected', 'Give the path of a file.'],
  ENOENT: [': no such file or folder', 'Check the path.'],
  ENOTEMPTY: ['is not empty', 'Choose a new or empty folder.'],
  ELOOP: [': too many levels of symbolic links', 'Check the links in the path.'],
  ENAMETOOLONG: [': the name is too long', 'Choose a shorter path.'],
  EMFILE: [': too many open files', 'Raise the limit (ulimit -n) and run again.'],
  ENFILE: [': too many open files in the system', 'Close other programs and run again.'],
  EIO: [': input/output error', 'The disk may be failing; check it, or use another one.'],
  EBUSY: [': the file or folder is busy', 'Wait for the other program to finish, and run again.'],
  EXDEV: [': cannot move across file systems', 'Keep the output and activation folders on the same disk.'],
  ETXTBSY: [': the file is busy', 'Wait for the other program to finish, and run again.'],
  EFBIG: [': file too large for this file system', 'Choose a folder on another disk.'],
  EINVAL: [': invalid argument', 'Check the path.'],
};

/** A message for a Node system error (one with an E… `code` and a `syscall`), or undefined for anything else. */
export function describeSystemError(error: unknown): string | undefined {
  const errno = error as NodeJS.ErrnoException | undefined;
  if (!(errno instanceof Error) || typeof errno.code !== 'string' || !/^E[A-Z0-9]+$/.test(errno.code) || typeof errno.syscall !== 'string') return undefined;
  const target = errno.path ?? (errno as { dest?: string }).dest;
  const meaning = MEANINGS[errno.code];
  const subject = target !== undefined ? JSON.stringify(target) : `a ${errno.syscall}`;
  if (!meaning) return `${subject}: ${errno.message} (${errno.code} in ${errno.syscall}).`;
  const [what, fix] = meaning;
  const dest = (errno as { dest?: string }).dest;
  return `${subject}${what.startsWith(':') ? '' : ' '}${what} (${errno.code} in ${errno.syscall}${dest && errno.path ? ` → ${JSON.stringify(dest)}` : ''}). ${fix}`;
}
