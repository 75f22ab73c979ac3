import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chooseMapExtent, greatCircleKm, predictionError, thinOut } from '../../../webview/src/geo';

const R = 6371.0088;

/** Independent reference: spherical law of cosines (a different formula from the haversine under test). */
function lawOfCosinesKm(a: number[], b: number[]): number {
  const rad = Math.PI / 180;
  const cos = Math.sin(a[0] * rad) * Math.sin(b[0] * rad) + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.cos((b[1] - a[1]) * rad);
  return R * Math.acos(Math.min(1, Math.max(-1, cos)));
}

test('greatCircleKm matches exact arcs and the law of cosines', () => {
  assert.ok(Math.abs(greatCircleKm([0, 0], [0, 90]) - (Math.PI / 2) * R) < 1e-6);
  assert.ok(Math.abs(greatCircleKm([90, 0], [-90, 0]) - Math.PI * R) < 1e-6);
  assert.equal(greatCircleKm([48.85, 2.35], [48.85, 2.35]), 0);
  let seed = 7;
  const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  for (let i = 0; i < 200; i++) {
    const a = [random() * 180 - 90, random() * 360 - 180];
    const b = [random() * 180 - 90, random() * 360 - 180];
    const expected = lawOfCosinesKm(a, b);
    assert.ok(Math.abs(greatCircleKm(a, b) - expected) < 1e-3 * Math.max(1, expected / 1000), `${a} ${b}`);
  }
});

test('predictionError uses km for space and absolute years for time', () => {
  assert.equal(predictionError('time', [1990], [1984.5]), 5.5);
  assert.equal(predictionError('space', [0, 0], [0, 90]), greatCircleKm([0, 0], [0, 90]));
});

test('thinOut keeps order and at most the limit', () => {
  const items = Array.from({ length: 1001 }, (_, i) => i);
  const kept = thinOut(items, 100);
  assert.equal(kept.length, 100);
  assert.deepEqual([...kept].sort((a, b) => a - b), kept);
  assert.equal(thinOut(items, 5000), items);
});

test('chooseMapExtent picks NYC, USA and world for the built-in place datasets', () => {
  const dir = path.resolve(__dirname, '../../../../data/builtin');
  const positions = (file: string): number[][] => {
    const [header, ...lines] = readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).slice(0, 3000);
    const columns = header.split(',');
    const lat = columns.indexOf('latitude');
    const lon = columns.indexOf('longitude');
    // Rows with quoted commas shift columns; keep rows whose fields parse as coordinates.
    return lines.map((l) => l.split(',')).map((f) => [Number(f[lat]), Number(f[lon])]).filter((p) => p.every(Number.isFinite) && Math.abs(p[0]) <= 90);
  };
  assert.equal(chooseMapExtent(positions('nyc_places.csv')), 'nyc');
  assert.equal(chooseMapExtent(positions('usa_places.csv')), 'usa');
  assert.equal(chooseMapExtent(positions('world_places.csv')), 'world');
  assert.equal(chooseMapExtent([]), 'world');
});
