import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` that holds a package.json. */
export const findPackageRoot = (from: string, exists: (path: string) => boolean = existsSync): string => {
  for (let folder = from; ; folder = dirname(folder)) {
    if (exists(join(folder, 'package.json'))) return folder;
    if (dirname(folder) === folder) throw new Error(`no package.json at or above ${from}`);
  }
};

/**
 * seat-surge's own folder, where public/, drizzle/ and package.json are. Found by walking up
 * rather than by a path relative to this file, which is src/ under tsx but dist/src/ compiled.
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
