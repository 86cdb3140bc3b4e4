import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every suite names its temporary directories `firebreak-*`. Each test removes its own, but a
 * worker stopped mid-test (a timeout, the pool shutting down) runs no cleanup, and `exit`
 * handlers do not run in workers: whatever this run left behind goes when the run ends.
 */
export default function setup(): () => void {
  const started = Date.now();
  return () => {
    for (const name of readdirSync(tmpdir())) {
      if (!name.startsWith("firebreak-")) continue;
      const path = join(tmpdir(), name);
      try {
        if (statSync(path).mtimeMs >= started) rmSync(path, { recursive: true, force: true });
      } catch {
        // Gone already (its own test removed it meanwhile).
      }
    }
  };
}
