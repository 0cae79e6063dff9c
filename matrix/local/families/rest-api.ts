import { RestApiSource } from '../../../engine/connectors/rest-api/index.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import { RestMockServer } from '../../../fixtures/rest-mock/index.ts';
import { sourceFamily } from '../../families.ts';
import type { SeededSource, SourceHarness } from '../family-harness.ts';

/**
 * The REST API source family in the local modes: a `RestMockServer` per seeded source (the
 * fixture's table and change feed, on a free port of 127.0.0.1, collection `/v1/<ns>`), read by a
 * `RestApiSource`. The base cursor is the feed's high-water mark after the base rows. `release`
 * stops the server.
 */
export function restApiSourceHarness(): SourceHarness {
  const capabilities = sourceFamily('rest_api').capabilities;
  return {
    family: 'rest_api',
    services: [],
    async seedSource(fixture: SourceFixture, ns: string): Promise<SeededSource> {
      const server = new RestMockServer(fixture, { resource: ns });
      await server.start();
      const source = new RestApiSource({ baseUrl: server.collectionUrl, schema: fixture.schema });
      const { watermark } = memorySourceFor(fixture, capabilities).baseCursor();
      return { source, baseCursor: watermark === undefined ? {} : { watermark }, release: () => server.stop() };
    },
    close: async () => undefined,
  };
}
