import { describe, expect, test } from 'vitest';
import { BIGQUERY_LIVE_ENV, bigQueryClientOptions } from './bigquery.ts';

/** The BigQuery client is configured from the vendor_live environment only; secrets never reach a message. */
describe('bigQueryClientOptions', () => {
  const BASE = { DPONE_LIVE_BIGQUERY_PROJECT: 'proj', DPONE_LIVE_BIGQUERY_DATASET: 'ds' };

  test('the live environment contract', () => {
    expect(BIGQUERY_LIVE_ENV).toMatchObject({
      required: ['DPONE_LIVE_BIGQUERY_PROJECT', 'DPONE_LIVE_BIGQUERY_DATASET'],
      oneOf: ['GOOGLE_APPLICATION_CREDENTIALS', 'DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON'],
      optional: ['DPONE_LIVE_BIGQUERY_LOCATION'],
    });
  });

  test('credentials JSON is parsed in memory and preferred over a key file', () => {
    const options = bigQueryClientOptions({
      ...BASE, DPONE_LIVE_BIGQUERY_LOCATION: 'EU', GOOGLE_APPLICATION_CREDENTIALS: '/keys/sa.json',
      DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON: '{"type":"service_account","private_key":"secret-key"}',
    });
    expect(options).toEqual({ projectId: 'proj', location: 'EU', credentials: { type: 'service_account', private_key: 'secret-key' } });
    expect(bigQueryClientOptions({ ...BASE, GOOGLE_APPLICATION_CREDENTIALS: '/keys/sa.json' })).toEqual({ projectId: 'proj', keyFilename: '/keys/sa.json' });
  });

  test('missing variables are named; invalid JSON is reported without its content', () => {
    expect(() => bigQueryClientOptions({ DPONE_LIVE_BIGQUERY_PROJECT: 'proj' })).toThrow(
      'BigQuery live environment incomplete: set DPONE_LIVE_BIGQUERY_DATASET, GOOGLE_APPLICATION_CREDENTIALS or DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON');
    let message = '';
    try {
      bigQueryClientOptions({ ...BASE, DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON: '{"private_key": "hunter2-secret' });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toBe('DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON is not valid JSON');
  });
});
