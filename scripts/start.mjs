// `npm start [-- flags]`: build, then run the main job with every flag passed through
// (npm would otherwise take `--full` or `--help` as its own). The job runs in
// packages/experiments, so its default results folder is packages/experiments/results.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
const job = spawnSync(process.execPath, ['dist/cli.js', ...process.argv.slice(2)], {
  cwd: join(root, 'packages', 'experiments'),
  stdio: 'inherit',
});
process.exit(job.status ?? (job.signal === 'SIGINT' ? 130 : 1));
