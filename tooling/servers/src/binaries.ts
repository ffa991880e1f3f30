import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MissingServerBinaryError } from './errors.js';

/** Finds an executable on PATH (or the override in `envVar`), throwing a typed error naming the install command. */
export function findBinary(name: string, envVar: string): string {
  const override = process.env[envVar];
  if (override) {
    assertExecutable(override, name);
    return override;
  }
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new MissingServerBinaryError(name);
}

function assertExecutable(path: string, name: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingServerBinaryError(`${name} (${path})`);
  }
}
