// Child processes and temporary folders for the release check. Every folder made here is
// removed by `removeTemporaryFolders`, which the check calls in `finally` and on SIGINT/SIGTERM,
// so a failed or interrupted run leaves nothing behind in the temp dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folders = new Set();
const children = new Set();

/** A new empty folder under the OS temp dir, removed at the end of the run. */
export function temporaryFolder(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

/** Stop what is still running and delete every folder made by `temporaryFolder`. */
export function removeTemporaryFolders() {
  for (const child of children) child.kill('SIGTERM');
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}

/**
 * Run `cmd args` in `cwd` and resolve with its stdout; reject with its stdout and stderr
 * when it exits non-zero (`allowFailure` resolves with `{ code, stdout, stderr }` instead).
 */
export function run(cmd, args, { cwd, env, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (allowFailure) resolve({ code, stdout, stderr });
      else if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} (in ${cwd}) failed with ${signal ?? `exit code ${code}`}\n${stdout}${stderr}`,
          ),
        );
    });
  });
}

/** Run `tasks` (functions returning promises) with at most `limit` at a time, in order. */
export async function inParallel(limit, tasks) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
