import { expect, test } from 'vitest';
import type { KafkaAdminShape, KafkaShape } from './kafka-driver.ts';
import { KafkaDriver } from './kafka-driver.ts';

/** A client whose admin lists `topics` and, after a delete, keeps listing them for `lingeringLists` more calls. */
function lingeringDeletes(topics: string[], lingeringLists: number): { kafka: KafkaShape; deleted: string[][] } {
  const deleted: string[][] = [];
  let lingering = 0;
  const admin: Partial<KafkaAdminShape> = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => {
      if (deleted.length === 0 || lingering-- > 0) return [...topics];
      return topics.filter((topic) => !deleted.flat().includes(topic));
    },
    deleteTopics: async ({ topics: names }) => {
      deleted.push(names);
      lingering = lingeringLists;
    },
  };
  const kafka = { admin: () => admin as KafkaAdminShape } as unknown as KafkaShape;
  return { kafka, deleted };
}

test('deleteTopics deletes only existing topics and returns once the broker no longer lists them', async () => {
  const { kafka, deleted } = lingeringDeletes(['a', 'b', 'keep'], 3);
  const driver = new KafkaDriver(kafka);
  await driver.deleteTopics(['a', 'b', 'absent']);
  expect(deleted).toEqual([['a', 'b']]);
  expect(await driver.topics()).toEqual(['keep']);
});

test('deleteTopics fails, naming the topics, when they are still listed after the timeout', async () => {
  const { kafka } = lingeringDeletes(['a'], Number.POSITIVE_INFINITY);
  await expect(new KafkaDriver(kafka, { topicDeletionTimeoutMs: 250 }).deleteTopics(['a'])).rejects.toThrow(/topics a are still listed 250 ms after/);
});
