import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The docs are part of the product: a command they quote must exist, and a link must lead
 * somewhere. These checks read README.md and every page under docs/.
 */
const root = resolve(import.meta.dirname, '..');

/** The `npm run <script>` names a Markdown text quotes. */
const quotedScripts = (markdown: string): string[] => [
  ...new Set([...markdown.matchAll(/\bnpm run ([a-z][\w:.-]*)/g)].map((match) => match[1]!)),
];

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{Letter}\p{Number}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** Every anchor of a Markdown text, repeated headings numbered as GitHub numbers them. */
const anchorsOf = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = anchorOf(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
};

/** The text without fenced code blocks, where `#` starts a shell comment, not a heading. */
const withoutCode = (markdown: string): string => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1\s*$/gm, '');

/** The relative link targets of a Markdown text: `[text](target)`, images included. */
const relativeLinks = (markdown: string): string[] =>
  [...withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));

/** What is wrong with one link from `fromFile`, or undefined when it leads somewhere. */
const brokenLink = (fromFile: string, target: string, read: (path: string) => string | undefined) => {
  const [pathPart = '', anchor] = target.split('#', 2);
  const file = pathPart === '' ? fromFile : resolve(dirname(fromFile), decodeURIComponent(pathPart));
  if (!existsSync(file)) return `${target}: no such file`;
  if (anchor === undefined || !file.endsWith('.md')) return undefined;
  const text = read(file);
  return text !== undefined && anchorsOf(text).has(anchor) ? undefined : `${target}: no heading #${anchor}`;
};

const pages = (): string[] => [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
];

const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

describe('the docs', () => {
  it('quote only npm scripts that package.json has', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts,
    );
    const missing = pages().flatMap((page) =>
      quotedScripts(readFileSync(page, 'utf8'))
        .filter((name) => !scripts.includes(name))
        .map((name) => `${relative(root, page)}: npm run ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken = pages().flatMap((page) =>
      relativeLinks(readFileSync(page, 'utf8')).flatMap((target) => {
        const problem = brokenLink(page, target, read);
        return problem === undefined ? [] : [`${relative(root, page)}: ${problem}`];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('refer to nothing outside the repository', () => {
    const outside = pages().flatMap((page) =>
      relativeLinks(readFileSync(page, 'utf8'))
        .filter((target) => !resolve(dirname(page), target.split('#')[0]!).startsWith(root))
        .map((target) => `${relative(root, page)}: ${target}`),
    );
    expect(outside).toEqual([]);
  });
});

describe('the docs checks themselves', () => {
  it('find the scripts a text quotes, once each', () => {
    expect(quotedScripts('run `npm run loadtest -- --quick`, then npm run bench:snapshots; npm run loadtest')).toEqual([
      'loadtest',
      'bench:snapshots',
    ]);
  });

  it('give headings the anchors GitHub gives them', () => {
    expect(anchorOf('Results on this 2-core machine')).toBe('results-on-this-2-core-machine');
    expect(anchorOf('Surges as arrivals: capacity at p99 ≤ 100 ms, and a spike')).toBe(
      'surges-as-arrivals-capacity-at-p99--100-ms-and-a-spike',
    );
    expect(anchorOf('`npm run dev`: from source')).toBe('npm-run-dev-from-source');
    expect([...anchorsOf('# A\n```sh\n# not a heading\n```\n## A\n')]).toEqual(['a', 'a-1']);
  });

  it('report a link to a missing file or heading, and pass one that resolves', () => {
    const readme = join(root, 'README.md');
    const text = (path: string) => (path === readme ? '# seat-surge\n## Try it\n' : read(path));
    expect(brokenLink(readme, 'docs/no-such-page.md', text)).toBe('docs/no-such-page.md: no such file');
    expect(brokenLink(readme, '#no-such-heading', text)).toBe('#no-such-heading: no heading #no-such-heading');
    expect(brokenLink(readme, '#try-it', text)).toBeUndefined();
    expect(brokenLink(readme, 'package.json', text)).toBeUndefined();
    expect(relativeLinks('[a](docs/api.md) [b](https://x.org) ![c](docs/demo-page.png "pic")')).toEqual([
      'docs/api.md',
      'docs/demo-page.png',
    ]);
  });
});
