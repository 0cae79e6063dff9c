import { afterEach, describe, expect, test } from 'vitest';
import { benchPostgresLoad } from './postgres-load-bench.ts';

describe('benchPostgresLoad', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  test('without psql on the PATH fails at once, naming the package that provides it', async () => {
    process.env.PATH = '/nonexistent';
    await expect(benchPostgresLoad({ rows: 10, progress: () => undefined })).rejects.toThrow(/psql not found.*apt-get install -y postgresql-client/);
  });
});
