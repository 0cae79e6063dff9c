import { describe, expect, it } from 'vitest';
import { findCase } from '../registry.ts';
import { missingVendorEnv, redactSecrets, secretValues, vendorFamiliesOf } from './vendor-env.ts';

describe('vendor endpoints', () => {
  it('a case needs the managed services at its ends; REST is served by the in-process mock', () => {
    const families = (id: string) => {
      const matrixCase = findCase(id);
      if (!matrixCase) throw new Error(id);
      return vendorFamiliesOf(matrixCase);
    };
    expect(families('kafka_to_bigquery__replace')).toEqual(['kafka', 'bigquery']);
    expect(families('rest_api_to_postgres__replace')).toEqual([]);
    expect(families('postgres_to_mssql__replace')).toEqual([]);
  });

  it('lists every missing variable, alternatives joined by "or"', () => {
    expect(missingVendorEnv('bigquery', {})).toEqual([
      'DPONE_LIVE_BIGQUERY_PROJECT', 'DPONE_LIVE_BIGQUERY_DATASET', 'GOOGLE_APPLICATION_CREDENTIALS or DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON',
    ]);
    expect(missingVendorEnv('bigquery', {
      DPONE_LIVE_BIGQUERY_PROJECT: 'p', DPONE_LIVE_BIGQUERY_DATASET: 'd', GOOGLE_APPLICATION_CREDENTIALS: '/k.json',
    })).toEqual([]);
    expect(missingVendorEnv('kafka', { DPONE_LIVE_KAFKA_BOOTSTRAP_SERVERS: '  ' })).toEqual(['DPONE_LIVE_KAFKA_BOOTSTRAP_SERVERS']);
  });
});

describe('redactSecrets', () => {
  const env = {
    DPONE_LIVE_KAFKA_SASL_PASSWORD: 'k4fka-pass',
    DPONE_IT_PG_PASSWORD: 'pg-secret-1',
    DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON: '{"private_key":"-----KEY\\nLINE-----"}',
    DPONE_LIVE_BIGQUERY_PROJECT: 'public-project',
    DPONE_IT_CH_PASSWORD: 'abc',
  };

  it('collects vendor credentials and local endpoint passwords, not plain settings or tiny values', () => {
    expect(secretValues(env).sort()).toEqual(['k4fka-pass', 'pg-secret-1', '{"private_key":"-----KEY\\nLINE-----"}'].sort());
  });

  it('replaces every occurrence, also JSON-escaped inside another document', () => {
    const secrets = secretValues(env);
    const document = JSON.stringify({ error: `auth failed for k4fka-pass at pg-secret-1`, echoed: env.DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON });
    const redacted = redactSecrets(document, secrets);
    for (const secret of secrets) {
      expect(redacted).not.toContain(secret);
      expect(redacted).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    expect(redacted).toContain('auth failed for *** at ***');
  });
});
