import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPackageRoot, PACKAGE_ROOT } from '../src/package-root.js';

describe('the package root', () => {
  it('is the nearest folder with a package.json, from src/ or from dist/src/', () => {
    const exists = (path: string) => path === '/app/package.json';
    expect(findPackageRoot('/app/src/http', exists)).toBe('/app');
    expect(findPackageRoot('/app/dist/src/http', exists)).toBe('/app');
  });

  it('says so when there is none', () => {
    expect(() => findPackageRoot('/nowhere/src', () => false)).toThrow(/no package.json at or above \/nowhere\/src/);
  });

  it('holds what the service reads at run time', () => {
    for (const path of ['package.json', 'public/index.html', 'drizzle/meta/_journal.json']) {
      expect(existsSync(join(PACKAGE_ROOT, path)), path).toBe(true);
    }
  });
});
