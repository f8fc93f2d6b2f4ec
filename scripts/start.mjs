// `npm start`: build the sample when its output is missing or older than any
// source file, then run it in this process's place (PORT etc. pass through).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const entry = 'dist/apps/sample/apps/sample/src/main.js';
const sourceDirs = ['apps/sample/src', 'libs/hal-problem/src'];

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    newest = Math.max(
      newest,
      item.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs,
    );
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(entry).mtimeMs;
  } catch {
    return -1;
  }
}

if (builtAt() < Math.max(...sourceDirs.map(newestMtime))) {
  const build = spawnSync('npx', ['nest', 'build', 'sample'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const run = spawnSync(process.execPath, ['--enable-source-maps', entry], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
