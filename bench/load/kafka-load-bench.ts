import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRowCodec, KafkaEventLogSink } from '../../engine/connectors/kafka/index.ts';
import { MemorySource } from '../../engine/connectors/memory/index.ts';
import type { FaultPoint, LifecyclePhase } from '../../engine/lifecycle/index.ts';
import { runLoad } from '../../engine/lifecycle/index.ts';
import { MemoryStateStore } from '../../engine/state/index.ts';
import { DEFAULT_STRATEGIES } from '../../engine/strategies/index.ts';
import { buildSourceFixture } from '../../fixtures/source-fixture.ts';
import { KAFKA_VERSION, KafkaLocalBroker, resolveKafkaJars } from '../../fixtures/services/kafka-local.ts';
import { openKafkaDriver } from '../../fixtures/services/kafka-providers.ts';
import { runCommand } from '../../fixtures/services/local-process.ts';
import { sourceFamily } from '../../matrix/families.ts';
import type { LoadBenchOptions, LoadBenchResult } from './load-bench-result.ts';

/** Producer settings both sides share: acks from all in-sync replicas, no compression, idempotence. */
const NATIVE_PRODUCER_PROPS = ['acks=all', 'compression.type=none', 'enable.idempotence=true', `batch.size=${768 * 1024}`, 'linger.ms=5'];

/** Seconds spent in each lifecycle phase, from the instants the lifecycle reaches its fault points. */
class PhaseClock {
  private readonly spent = new Map<LifecyclePhase, number>();
  private current?: { phase: LifecyclePhase; since: number };

  check(point: FaultPoint): void {
    if (this.current?.phase === point.phase) return;
    this.stop();
    this.current = { phase: point.phase, since: performance.now() };
  }

  stop(): void {
    if (this.current) this.spent.set(this.current.phase, (this.spent.get(this.current.phase) ?? 0) + (performance.now() - this.current.since) / 1000);
    this.current = undefined;
  }

  summary(): string {
    return [...this.spent].map(([phase, seconds]) => `${phase} ${seconds.toFixed(2)} s`).join(', ');
  }
}

/** `ProducerPerformance`'s closing line: `N records sent, R records/sec (X MB/sec), …`. */
function producerPerformanceRate(output: string): { recordsPerSecond: number; line: string } {
  const lines = output.trim().split('\n').filter((line) => / records sent, /.test(line));
  const line = lines.at(-1);
  const match = line === undefined ? null : /records sent, ([\d.]+) records\/sec/.exec(line);
  if (!line || !match) throw new Error(`ProducerPerformance printed no summary:\n${output.slice(-1000)}`);
  return { recordsPerSecond: Number(match[1]), line: line.trim() };
}

/**
 * The Kafka line of `pnpm bench load`: one local broker; the engine's full_refresh of the fixture's
 * wide base rows from a memory source into `KafkaEventLogSink` (timed end to end, reconciliation
 * included), then Kafka's own `ProducerPerformance` producing as many records of the same JSON
 * payloads with the same acks, compression and batch size.
 */
export async function benchKafkaLoad(options: LoadBenchOptions): Promise<LoadBenchResult> {
  const fixture = buildSourceFixture('kafka', { rows: options.rows, changeRatio: 0.2, deleteRatio: 0.05 });
  const rows = fixture.before;
  const workDir = mkdtempSync(join(tmpdir(), 'dpone-kafka-bench-'));
  let started = performance.now();
  const broker = await KafkaLocalBroker.start({ heapMb: 1024 });
  options.progress(`kafka: broker up in ${((performance.now() - started) / 1000).toFixed(1)} s on ${broker.endpoint.bootstrapServers}`);
  const driver = await openKafkaDriver(broker.endpoint);
  try {
    const source = new MemorySource({
      family: 'kafka', capabilities: sourceFamily('kafka').capabilities, schema: fixture.schema,
      baseRows: rows, changes: [], snapshotAt: fixture.snapshotAt, watermarkColumn: 'updated_at',
    });
    const sink = new KafkaEventLogSink(driver, { topicPrefix: 'bench.' });
    const clock = new PhaseClock();
    started = performance.now();
    await runLoad({
      pipeline: 'bench_kafka', source, sink, strategy: DEFAULT_STRATEGIES.get('full_refresh'), stateStore: new MemoryStateStore(),
      targetName: 'engine', faults: clock,
    });
    clock.stop();
    const engineSeconds = (performance.now() - started) / 1000;
    options.progress(`kafka: engine ${engineSeconds.toFixed(2)} s (${clock.summary()})`);

    const codec = new JsonRowCodec(fixture.schema);
    const payloadFile = join(workDir, 'payloads.jsonl');
    const out = createWriteStream(payloadFile);
    let payloadBytes = 0;
    for (const row of rows) {
      const line = `${codec.encode(row)}\n`;
      payloadBytes += Buffer.byteLength(line);
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await driver.createTopic('bench.native');
    const lib = await resolveKafkaJars();
    started = performance.now();
    const output = await runCommand('java', [
      '-Xmx4g', '-cp', join(lib, '*'), 'org.apache.kafka.tools.ProducerPerformance',
      '--topic', 'bench.native', '--num-records', String(rows.length), '--throughput', '-1', '--payload-file', payloadFile,
      '--producer-props', `bootstrap.servers=${broker.endpoint.bootstrapServers}`, ...NATIVE_PRODUCER_PROPS,
    ], { timeoutMs: 600_000 });
    const nativeWallSeconds = (performance.now() - started) / 1000;
    const native = producerPerformanceRate(output);
    const nativeSeconds = rows.length / native.recordsPerSecond;
    options.progress(`kafka: native ${nativeSeconds.toFixed(2)} s (${native.line})`);
    return {
      system: 'kafka',
      provider: `Apache Kafka ${KAFKA_VERSION} (KRaft, local Java process) on 127.0.0.1`,
      rows: rows.length,
      columns: fixture.schema.columns.length,
      engineMethod: 'full_refresh via KafkaEventLogSink (kafkajs idempotent producer, JSON values, reconcile reads the topic back)',
      engineSeconds,
      nativeTool: `kafka-tools ProducerPerformance --payload-file (${NATIVE_PRODUCER_PROPS.join(' ')})`,
      nativeSeconds,
      notes: [
        `engine phases: ${clock.summary()}`,
        `native: ${native.line}; wall time with JVM start and payload load ${nativeWallSeconds.toFixed(2)} s`,
        `payloads: ${(payloadBytes / rows.length / 1024).toFixed(1)} KiB of JSON per row on average`,
        'ProducerPerformance sends values without keys or headers, picking payloads at random; the engine also keys every event and writes its id and op as headers',
      ],
    };
  } finally {
    await driver.close();
    await broker.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
