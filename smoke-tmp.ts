import { MATRIX } from './matrix/registry.ts';
import { runCaseBehavior } from './matrix/behavior.ts';
const per = new Map<string, number>();
const t = performance.now();
let failed = 0;
const rows = Number(process.env.ROWS ?? 10000);
for (const c of MATRIX) {
  const s = performance.now();
  const r = await runCaseBehavior(c, { profile: { rows, changeRatio: 0.2, deleteRatio: 0.05 }, runMode: 'mock_contract' });
  if (!r.passed) { failed++; if (failed < 4) console.log(c.id, r.load_error, r.quality_check_results.filter(q => !q.passed), r.samples?.mismatched_keys); }
  per.set(c.strategy, (per.get(c.strategy) ?? 0) + performance.now() - s);
}
console.log([...per].map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' '));
console.log('failed', failed, ((performance.now() - t) / 1000).toFixed(2), 's', (process.memoryUsage().rss/1e6).toFixed(0), 'MB');
