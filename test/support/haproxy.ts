import { execFileSync } from 'node:child_process';

/** Whether HAProxy runs here; the cluster tests need it. */
export const haproxyInstalled = (() => {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// CI installs HAProxy (.ci/run); there, a missing one is a failure, never a silent skip.
if (process.env.CI && !haproxyInstalled) throw new Error('HAProxy is not installed, and CI must run the cluster tests');
