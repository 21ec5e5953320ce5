/**
 * Is a process with this PID alive? Signal 0 checks without signalling. EPERM means it exists
 * but belongs to another user (e.g. a postmaster run as `postgres` while we are not root).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
