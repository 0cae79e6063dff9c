import { Command } from 'commander';
import { checkDocs, writeDocs } from '../../reports/docs/index.ts';

/** `dpone docs generate|check`: regenerates the registry-driven docs, or verifies them (exit 1 on problems). */
export function docsCommand(): Command {
  const docs = new Command('docs').description('generate or check the registry-driven documentation');
  docs.command('generate')
    .description('write docs/source-sink/*.md, docs/source-sink-matrix.md and docs/load-strategies.md from the registry')
    .action(async () => {
      const written = await writeDocs(process.cwd());
      process.stdout.write(`wrote ${written.length} files\n`);
    });
  docs.command('check')
    .description('report missing guides, stale generated files and broken links')
    .action(async () => {
      const problems = await checkDocs(process.cwd());
      for (const problem of problems) process.stdout.write(`${problem}\n`);
      process.stdout.write(problems.length ? `${problems.length} documentation problems\n` : 'docs are complete and up to date\n');
      process.exitCode = problems.length ? 1 : 0;
    });
  return docs;
}
