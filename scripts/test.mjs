// Lints, typechecks and runs every package's tests through turbo, then prints one closing line
// summed over the packages' vitest JSON reports.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p));
const reportOf = (dir) => join(dir, 'test-results.json');
for (const dir of packages) rmSync(reportOf(dir), { force: true });

const run = spawnSync(
  'npx',
  ['turbo', 'run', 'lint', 'typecheck', 'test', '--continue', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of packages) {
  if (!existsSync(reportOf(dir))) continue;
  const report = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status ?? 1);
