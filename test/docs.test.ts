import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../src/shared/config.js';

/**
 * The documentation holds together: every relative link resolves (to a file, and for `#anchor` to a
 * heading of that slug), and every setting of `src/shared/config.ts` is documented. Reads files only.
 */

const root = resolve(import.meta.dirname, '..');

function markdownUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

const DOCS = ['README.md', ...markdownUnder('docs'), 'bench/README.md'];
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** The text outside fenced code blocks and inline code, where links and headings are what they look like. */
function prose(markdown: string): string {
  return markdown.replace(/^ *(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ *\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function slugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutFences = markdown.replace(/^ *(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ *\1[^\n]*$/gm, '');
  for (const [, text = ''] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every link and image target of a document that stays inside the repository. */
function relativeLinks(markdown: string): string[] {
  const targets = [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1] ?? '',
  );
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('/'));
}

describe('documentation', () => {
  for (const file of DOCS) {
    it(`every relative link of ${file} resolves`, () => {
      const broken: string[] = [];
      for (const link of relativeLinks(read(file))) {
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : relative(root, resolve(root, dirname(file), decodeURIComponent(path)));
        if (!existsSync(join(root, target))) broken.push(`${link}: no file ${target}`);
        else if (anchor !== undefined && target.endsWith('.md') && statSync(join(root, target)).isFile()) {
          if (!slugs(read(target)).has(anchor)) broken.push(`${link}: no heading #${anchor} in ${target}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it('documents every setting of src/shared/config.ts', () => {
    const text = DOCS.map(read).join('\n');
    const missing = Object.keys(ConfigSchema.shape).filter(
      (name) => !new RegExp(`(?<![A-Z0-9_])${name}(?![A-Z0-9_])`).test(text),
    );
    assert.ok(Object.keys(ConfigSchema.shape).length > 50, 'the schema keys were read');
    assert.deepEqual(missing, []);
  });

  it("the README's map leads to adding a connector, writing a schedule and deploying on Kubernetes", () => {
    const links = relativeLinks(read('README.md'));
    for (const wanted of [
      'docs/connectors.md#add-a-connector',
      'docs/triggers.md#schedules',
      'docs/operations.md#deploy-on-kubernetes',
    ])
      assert.ok(links.includes(wanted), `README links ${wanted}`);
  });

  it('the README stays short', () => {
    assert.ok(read('README.md').split('\n').length <= 251, 'README.md is at most 250 lines');
  });

  it('finds broken links and headings by GitHub slug', () => {
    assert.deepEqual(
      [...slugs("# A `b` c\n## Who writes a run's status when\n## x\n## x\n```\n# not a heading\n```\n")],
      ['a-b-c', 'who-writes-a-runs-status-when', 'x', 'x-1'],
    );
    assert.deepEqual(relativeLinks('[a](b.md#c) [d](https://e) `[f](g)` ![h](i.png)\n```\n[j](k)\n```\n'), [
      'b.md#c',
      'i.png',
    ]);
  });
});
