import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { REPLAY_OPTIONS } from '../helpers/replay.js';

const dir = new URL('../histories/', import.meta.url);

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('replay safety', () => {
  it('every recorded history (one per step type and outcome) replays against the current workflow code', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    assert.ok(files.length >= 12, `expected recorded histories in test/histories, found ${files.length}`);
    const histories = await Promise.all(
      files.map(async (f) => {
        const { workflowId, history } = JSON.parse(await readFile(new URL(f, dir), 'utf8'));
        return { workflowId, history: historyFromJSON(history), file: f };
      }),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(REPLAY_OPTIONS, histories)) {
      if (result.error)
        failures.push(`${histories.find((h) => h.workflowId === result.workflowId)?.file}: ${result.error.message}`);
    }
    assert.deepEqual(failures, [], 'histories that no longer replay: the interpreter change needs patched()');
  });
});
