import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VENDOR_ENDPOINTS } from '../matrix/local/vendor-env.ts';
import { RUN_MODES } from '../matrix/registry.ts';

/** The manual GitHub Actions workflow offers every mode and hands secrets to vendor_live only. */

interface Workflow {
  readonly on: { readonly workflow_dispatch: { readonly inputs: Record<string, { readonly options?: readonly string[] }> } };
  readonly jobs: { readonly matrix: { readonly env: Record<string, string>; readonly steps: readonly { readonly name?: string; readonly if?: string; readonly run?: string }[] } };
}

const text = readFileSync(new URL('../.github/workflows/matrix.yml', import.meta.url), 'utf8');
const workflow = parse(text) as Workflow;

describe('.github/workflows/matrix.yml', () => {
  it('offers every run mode and a waiver input', () => {
    expect(workflow.on.workflow_dispatch.inputs.mode?.options).toEqual([...RUN_MODES]);
    expect(workflow.jobs.matrix.env.DPONE_MATRIX_WAIVE).toBe('${{ inputs.waive }}');
  });

  it('passes every vendor_live variable, secrets only when the mode is vendor_live', () => {
    const env = workflow.jobs.matrix.env;
    const names = Object.values(VENDOR_ENDPOINTS).flatMap((spec) => [...spec.required, ...spec.oneOf, ...spec.optional])
      .filter((name) => name.startsWith('DPONE_LIVE_'));
    for (const name of names) expect(env, name).toHaveProperty(name);
    for (const [name, value] of Object.entries(env)) {
      if (value.includes('secrets.')) expect(value, name).toMatch(/^\$\{\{ inputs\.mode == 'vendor_live' && secrets\.\w+ \|\| '' \}\}$/);
    }
    for (const secret of Object.values(VENDOR_ENDPOINTS).flatMap((spec) => spec.secrets)) expect(env[secret], secret).toContain(`secrets.${secret}`);
  });

  it('installs the services project for every mode but mock_contract', () => {
    const install = workflow.jobs.matrix.steps.find((step) => step.run === 'pnpm services:install');
    expect(install?.if).toBe("inputs.mode != 'mock_contract'");
  });
});
