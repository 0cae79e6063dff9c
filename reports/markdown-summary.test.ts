import { describe, expect, it } from 'vitest';
import { renderMarkdownSummary } from './markdown-summary.ts';
import { formatDuration } from './run-headline.ts';
import { sampleRunSummary } from './sample-run-summary.ts';
import { RUN_REPORT_FILES } from './write-run-reports.ts';

const FAILED = ['postgres_to_mssql__scd2', 'kafka_to_kafka__incremental_append'];
const markdown = renderMarkdownSummary(sampleRunSummary({ failed: FAILED, waivers: [{ family: 'mssql', reason: 'no licence on the runner' }] }));

/** The text of a `## heading` section, up to the next heading of the same level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  expect(start, `section ${heading}`).toBeGreaterThan(-1);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

describe('renderMarkdownSummary', () => {
  it('opens with the verdict, the counts and the run', () => {
    expect(markdown.split('\n').slice(0, 10).join('\n')).toMatchInlineSnapshot(`
      "# Matrix run: RED

      **RED**: 155 passed · 2 failed · 43 skipped of 200 cases.

      - Run mode: \`mock_local\`, provider memory
      - Profile: 10,000 rows, 20% changed, 5% deleted
      - Started 2025-06-02T09:00:00.000Z, finished 2025-06-02T09:01:23.400Z, wall time 1 min 23 s
      - Tests (contract + behavior): 312 passed · 2 failed · 86 skipped · 0 not run
      - Case artifacts: test_artifacts/integration_matrix/mock_local_latest
      "
    `);
  });

  it('lists each red case with its first failure, figures and behavior artifact', () => {
    const red = section(markdown, 'Red cases');
    for (const id of FAILED) {
      expect(red).toContain(`- \`${id}\`: checksum_matches_source_snapshot: expected checksum differs from actual`);
      expect(red).toContain(`\`${id}__behavior.json\``);
    }
    expect(red).toContain('rows expected 11,500, actual 11,499; checksum expected 0000000000000006, actual f000000000000006');
  });

  it('groups skips by reason with their count, and lists waivers', () => {
    const skips = section(markdown, 'Skipped cases');
    expect(skips).toContain('**43 skipped**: BigQuery is a managed service with no local emulator');
    expect(skips).toContain('`rest_api_to_bigquery__snapshot_diff`');
    expect(section(markdown, 'Waivers')).toContain('- `mssql`: no licence on the runner');
  });

  it('tabulates by strategy and by source × sink', () => {
    const strategies = section(markdown, 'By strategy');
    expect(strategies).toContain('| `scd2` | 20 | 14 | **1** | 5 |');
    expect(strategies).toContain('| `xmin` | 5 | 4 | 0 | 1 |');
    expect(strategies).toContain('| **all** | 200 | 155 | **2** | 43 |');
    const pairs = section(markdown, 'By source × sink');
    expect(pairs).toContain('| Source \\ Sink | SQL Server | PostgreSQL | ClickHouse | BigQuery | Kafka |');
    expect(pairs).toContain('| PostgreSQL | 9/10 · **1 failed** | 10/10 | 10/10 | 0/10 · 10 skipped | 7/7 |');
    expect(pairs).toContain('| Kafka | 8/8 | 8/8 | 8/8 | 0/8 · 8 skipped | 4/5 · **1 failed** |');
  });

  it('keeps the per-case table folded and links the other reports', () => {
    const outsideDetails = markdown.replace(/<details>[\s\S]*?<\/details>/g, '');
    expect(outsideDetails.split('\n').filter((line) => line.startsWith('|')).length).toBeLessThan(25);
    expect(section(markdown, 'All cases')).toContain('| `postgres_to_mssql__scd2` | **failed** | passed | failed |');
    for (const file of [RUN_REPORT_FILES.html, RUN_REPORT_FILES.svg, RUN_REPORT_FILES.certificationReport]) {
      expect(markdown).toContain(`](${file})`);
    }
  });

  it('says so when nothing is red, skipped or waived', () => {
    const green = renderMarkdownSummary(sampleRunSummary({ runMode: 'mock_contract' }));
    expect(green.startsWith('# Matrix run: GREEN\n\n**GREEN**: 200 passed · 0 failed · 0 skipped of 200 cases.')).toBe(true);
    for (const heading of ['Red cases', 'Skipped cases', 'Waivers']) expect(section(green, heading).trim()).toBe(`## ${heading}\n\nNone.`);
  });

  it('renders the same text twice', () => {
    expect(renderMarkdownSummary(sampleRunSummary({ failed: FAILED, waivers: [{ family: 'mssql', reason: 'no licence on the runner' }] }))).toBe(markdown);
  });
});

describe('formatDuration', () => {
  it('picks a unit a reader takes in at a glance', () => {
    expect([850, 12_340, 59_960, 83_400, 3_725_000].map(formatDuration)).toEqual(['850 ms', '12.3 s', '1 min 00 s', '1 min 23 s', '1 h 02 min']);
  });
});

describe('renderMarkdownSummary of a service-backed run', () => {
  const base = sampleRunSummary({ runMode: 'real_local' });
  const figures = [
    { throughput_rows_per_second: 1_000, duration_seconds: 2.5, memory_peak_mb: 300 },
    { throughput_rows_per_second: 4_000, duration_seconds: 9.25, memory_peak_mb: 700 },
    { throughput_rows_per_second: 2_500, duration_seconds: 4, memory_peak_mb: 350 },
  ];
  let next = 0;
  const summary = {
    ...base,
    outcomes: base.outcomes.map((outcome) => {
      const artifact = outcome.behaviorArtifact;
      const measured = figures[next];
      if (!artifact || !measured) return outcome;
      next += 1;
      return { ...outcome, behaviorArtifact: { ...artifact, provider: 'embedded', local_evidence: {
        namespace: 'n', services: {},
        performance: { ...measured, seed_seconds: 1, rows: 12_000 },
        state: { pipeline: 'p', store: 's', state_before: {}, committed_state: {}, stored_state: {}, stored_matches_committed: true, committed_after_reconcile: true },
        reconciliation: { batches: [], target_rows_expected: 1, target_rows_observed: 1, checksum_expected: 'a', checksum_observed: 'a', passed: true },
      } } };
    }),
  };
  const text = renderMarkdownSummary(summary);

  it('sums up the loads: median rate, slowest case, peak memory, then every case slowest first', () => {
    const loads = section(text, 'Loads against real services');
    const slowest = summary.outcomes.filter((outcome) => outcome.behaviorArtifact?.local_evidence)[1]?.caseId ?? '';
    expect(loads).toContain(`3 cases loaded: median 2,500 rows/s, slowest \`${slowest}\` (9.3 s), worker peak memory at most 700 MiB.`);
    const rows = loads.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.map((row) => row.split(' | ').slice(2).join(' | '))).toEqual([
      '12,000 | 4,000 | 9.3 s | 700 |', '12,000 | 2,500 | 4.0 s | 350 |', '12,000 | 1,000 | 2.5 s | 300 |',
    ]);
    expect(rows[0]).toContain('| embedded |');
  });

  it('has no such section for an in-memory run', () => {
    expect(markdown).not.toContain('## Loads against real services');
  });
});
