import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The shell commands of the README's quick start (the ```sh blocks before the next section). */
function quickStartCommands(readme: string): string[] {
  const start = readme.indexOf('## Quick start');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => (match[1] ?? '').trim());
}

describe('CI runs the README quick start, not a private variant', () => {
  const commands = quickStartCommands(read('README.md'));
  const ci = read('.ci/run');

  test('the quick start has the main-job command and the test command', () => {
    expect(commands).toHaveLength(2);
    expect(commands[0]).toContain('pnpm matrix --mode mock_contract');
    expect(commands[1]).toContain('pnpm test');
  });

  test.each([0, 1])('.ci/run holds quick-start command %i verbatim', (index) => {
    const lines = ci.split('\n').map((line) => line.trim());
    expect(lines).toContain(commands[index]);
  });

  test('.ci/run also holds the README\'s real-services command verbatim (the real_local subset)', () => {
    const readme = read('README.md');
    const start = readme.indexOf('## Real services');
    const command = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1]?.trim() ?? '';
    expect(command).toContain('pnpm matrix --mode real_local --waive mssql');
    expect(ci.split('\n').map((line) => line.trim())).toContain(command);
  });

  test('the pnpm version installed by the commands is the one package.json pins', () => {
    const pinned = (JSON.parse(read('package.json')) as { packageManager: string }).packageManager;
    for (const command of commands) expect(command).toContain(`npm install --global ${pinned}`);
  });
});
