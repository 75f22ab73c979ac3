/**
 * An activation folder of float32 layers over random places, with its dataset: layer k holds latitude/60 and
 * longitude/170 (alternating features) times k plus uniform noise, so layer 0 is noise and later layers probe
 * better. For the tests that compare probeActivations against another way of fitting the same layers.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ACTIVATIONS_FORMAT, layerFileName, writeActivationManifest } from '../../src/core/activations/manifest';
import { writeNpy } from '../../src/core/activations/npy';
import { parseDatasetText } from '../../src/core/datasets/parse';
import type { Dataset } from '../../src/core/datasets/types';
import { mulberry32 } from '../../src/core/probes/split';

export interface PlantedPlaces {
  /** n × 2 [latitude, longitude], rounded to 4 decimals as written to the dataset. */
  readonly targets: Float64Array;
  readonly layers: readonly Float32Array[];
  readonly dataset: Dataset;
}

/** Write `layers` layers of n × d values and their manifest into `dir` (which must exist); returns what was written. */
export function writePlantedPlaces(dir: string, options: { n: number; d: number; layers: number; seed: number }): PlantedPlaces {
  const { n, d } = options;
  const random = mulberry32(options.seed);
  const lines = ['name,latitude,longitude'];
  const targets = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    targets[2 * i] = Math.round((120 * random() - 60) * 1e4) / 1e4;
    targets[2 * i + 1] = Math.round((340 * random() - 170) * 1e4) / 1e4;
    lines.push(`place ${i},${targets[2 * i]},${targets[2 * i + 1]}`);
  }
  const layers = Array.from({ length: options.layers }, (_, layer) => Float32Array.from({ length: n * d }, (_, k) => {
    const row = Math.floor(k / d);
    const signal = layer === 0 ? 0 : (k % 2 === 0 ? targets[2 * row] / 60 : targets[2 * row + 1] / 170) * layer;
    return signal + (random() - 0.5);
  }));
  layers.forEach((x, layer) => writeNpy(path.join(dir, layerFileName(layer)), x, [n, d]));
  writeActivationManifest(dir, {
    format: ACTIVATIONS_FORMAT, model: 'test', prompt: '{entity}', dataset: 'places.csv', numEntities: n, hiddenSize: d,
    rows: Array.from({ length: n }, (_, i) => i + 2), layers: layers.map((_, index) => ({ index, file: layerFileName(index) })),
  });
  const parsed = parseDatasetText(`${lines.join('\n')}\n`, 'places.csv');
  assert.ok(parsed.ok && parsed.dataset);
  return { targets, layers, dataset: parsed.dataset };
}
