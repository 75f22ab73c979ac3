/**
 * cache clear and eviction touch only what is ours (issue 15, item 3): folders under <root>/v1/ without our
 * namespace marker, and files of someone else inside a namespace, are left alone.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache } from '../../../src/core/activations/cache';

describe('cache clear only deletes our namespaces', () => {
  test('foreign folders and files under v1/ survive clear and eviction', async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-clear-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const cache = new ActivationCache({ dir: root });
    const key = { fingerprint: 'd'.repeat(64), template: '{entity}', numLayers: 1, hiddenSize: 2 };
    const namespace = await cache.namespace(key);
    await namespace.store(['a', 'b'], [new Float32Array([1, 2]), new Float32Array([3, 4])]);
    await namespace.close();
    const photos = path.join(root, 'v1', 'photos');
    fs.mkdirSync(photos);
    fs.writeFileSync(path.join(photos, 'holiday.jpg'), Buffer.alloc(5000));
    const lookalike = path.join(root, 'v1', '0123456789abcdef0123456789abcdef');
    fs.mkdirSync(lookalike);
    fs.writeFileSync(path.join(lookalike, 'namespace.json'), '{"layout": "v1", "fingerprint": "x", "template": "{entity}"}');
    fs.writeFileSync(path.join(lookalike, 'data.bin'), 'mine');
    const ours = namespace.dir;
    fs.writeFileSync(path.join(ours, 'README.txt'), 'a note someone left');

    const info = await cache.info();
    assert.equal(info.namespaces.length, 1, 'only our namespace is listed');
    await cache.enforceCap(0);
    assert.ok(fs.existsSync(path.join(photos, 'holiday.jpg')), 'eviction leaves foreign folders alone');
    const cleared = await cache.clear();
    assert.equal(cleared.namespaces, 1);
    assert.ok(fs.existsSync(path.join(photos, 'holiday.jpg')));
    assert.equal(fs.readFileSync(path.join(lookalike, 'data.bin'), 'utf8'), 'mine');
    assert.deepEqual(fs.readdirSync(ours).sort(), ['README.txt', 'namespace.json'], 'our files are gone, the foreign one kept');
  });
});
