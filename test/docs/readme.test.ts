// README stays true: its node list names every node type in nodes/index.ts, and nothing else;
// the commands it gives exist in package.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allNodes, allPortTypes } from '../../nodes/index.ts';
import { catalogMarkdown } from '../../main/cli/commands/nodes.ts';
import { createRegistry } from '../../main/engine/index.ts';
import { ROOT } from '../cli/helpers.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };

describe('README', () => {
  it('lists every node type, and only those', () => {
    const section = readme.split('<!-- nodes:start')[1]?.split('<!-- nodes:end -->')[0] ?? '';
    const listed = [...section.matchAll(/`(dlflow:[a-z0-9:-]+)`/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(allNodes.map((n) => n.id).sort());
    // The section is exactly `dlflow nodes --markdown`: regenerate it when a node changes.
    expect(section.slice(section.indexOf('\n') + 1).trim()).toBe(catalogMarkdown(createRegistry(allNodes, allPortTypes).catalog()).trim());
  });

  it('gives commands that exist', () => {
    for (const script of ['start', 'test', 'build', 'lint', 'typecheck', 'bench']) {
      expect(pkg.scripts[script]).toBeTruthy();
      expect(readme).toContain(`npm ${script === 'start' || script === 'test' ? script : `run ${script}`}`);
    }
    expect(pkg.bin.dlflow).toBe('main/cli/dlflow.mjs');
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain('npm test');
  });
});
