import type { Env } from '../../fixtures/services/provider.ts';
import { sinkFamily, sourceFamily } from '../families.ts';
import type { MatrixCase } from '../registry.ts';

/** The managed services vendor_live drives, and the environment each one is configured by. */
export interface VendorEndpointSpec {
  readonly label: string;
  /** Every one of these must be set. */
  readonly required: readonly string[];
  /** At least one of these must be set (alternative credential forms). */
  readonly oneOf: readonly string[];
  readonly optional: readonly string[];
  /** Variables whose values are secrets: never printed, never written to an artifact. */
  readonly secrets: readonly string[];
}

export const VENDOR_ENDPOINTS = {
  bigquery: {
    label: 'BigQuery',
    required: ['DPONE_LIVE_BIGQUERY_PROJECT', 'DPONE_LIVE_BIGQUERY_DATASET'],
    oneOf: ['GOOGLE_APPLICATION_CREDENTIALS', 'DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON'],
    optional: ['DPONE_LIVE_BIGQUERY_LOCATION'],
    secrets: ['DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON'],
  },
  kafka: {
    label: 'managed Kafka',
    required: ['DPONE_LIVE_KAFKA_BOOTSTRAP_SERVERS'],
    oneOf: [],
    optional: ['DPONE_LIVE_KAFKA_SASL_MECHANISM', 'DPONE_LIVE_KAFKA_SASL_USERNAME', 'DPONE_LIVE_KAFKA_SASL_PASSWORD', 'DPONE_LIVE_KAFKA_SSL', 'DPONE_LIVE_SCHEMA_REGISTRY_URL'],
    secrets: ['DPONE_LIVE_KAFKA_SASL_PASSWORD'],
  },
} as const satisfies Readonly<Record<string, VendorEndpointSpec>>;

export type VendorFamily = keyof typeof VENDOR_ENDPOINTS;

function isVendorFamily(family: string): family is VendorFamily {
  return Object.hasOwn(VENDOR_ENDPOINTS, family);
}

/** The managed services a case loads through in vendor_live (REST is read from the in-process mock). */
export function vendorFamiliesOf(matrixCase: MatrixCase): VendorFamily[] {
  const families = [sourceFamily(matrixCase.source), sinkFamily(matrixCase.sink)].filter((family) => family.vendorLive).map((family) => family.name);
  return [...new Set(families.filter(isVendorFamily))];
}

/** `NAME` lines a family still needs; empty when its environment is complete. */
export function missingVendorEnv(family: VendorFamily, env: Env): string[] {
  const spec: VendorEndpointSpec = VENDOR_ENDPOINTS[family];
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const missing = spec.required.filter((name) => !set(name));
  if (spec.oneOf.length > 0 && !spec.oneOf.some(set)) missing.push(spec.oneOf.join(' or '));
  return missing;
}

/**
 * Every secret value the environment holds for dpone: vendor credentials and the passwords of
 * external local endpoints (`DPONE_IT_*_PASSWORD`). Values shorter than 4 characters are left out:
 * they cannot be told apart from ordinary text.
 */
export function secretValues(env: Env = process.env): string[] {
  const names = [
    ...Object.values(VENDOR_ENDPOINTS).flatMap((spec: VendorEndpointSpec) => spec.secrets),
    ...Object.keys(env).filter((name) => /^DPONE_(IT|LIVE)_.*(PASSWORD|TOKEN|SECRET|CREDENTIALS_JSON)$/.test(name)),
  ];
  return [...new Set(names)].map((name) => env[name] ?? '').filter((value) => value.length >= 4);
}

/** Replaces every secret value in a text by `***` (messages, artifacts and logs pass through this). */
export function redactSecrets(text: string, secrets: readonly string[] = secretValues()): string {
  let redacted = text;
  // A secret may also appear JSON-escaped (a credentials document inside a JSON string).
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) redacted = redacted.split(form).join('***');
  }
  return redacted;
}
