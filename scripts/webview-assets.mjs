// Copies the results panel's base maps into out/webview/geo/ (the webview loads them from the extension's own
// files: no CDN, no network). Called by scripts/build.mjs; also runnable alone: `node scripts/webview-assets.mjs`.
//   world-110m.json      vega-datasets (BSD-3-Clause), TopoJSON, object "countries"
//   states-10m.json      us-atlas (ISC), TopoJSON, object "states", unprojected lon/lat
//   nyc-boroughs.geojson us-atlas counties-10m filtered to the five boroughs and their neighbours, as GeoJSON
//                        (no finer open NYC topology ships in our dependencies; 1:10m is coarse at city scale)
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Data files are not in the packages' "exports", so resolve them from the package folders.
const packageFile = (pkg, file) => path.join(root, 'node_modules', pkg, file);

/** County FIPS codes: the five boroughs (New York, Kings, Queens, Bronx, Richmond), then neighbours for context. */
const NYC_COUNTIES = ['36061', '36047', '36081', '36005', '36085', '36059', '36119', '34017', '34003', '34013', '34039', '34031', '34023', '34025'];

export function buildWebviewAssets(outDir = path.join(root, 'out', 'webview', 'geo')) {
  mkdirSync(outDir, { recursive: true });
  copyFileSync(packageFile('vega-datasets', 'data/world-110m.json'), path.join(outDir, 'world-110m.json'));
  copyFileSync(packageFile('us-atlas', 'states-10m.json'), path.join(outDir, 'states-10m.json'));
  const { feature } = require('topojson-client');
  const counties = JSON.parse(readFileSync(packageFile('us-atlas', 'counties-10m.json'), 'utf8'));
  const all = feature(counties, counties.objects.counties);
  const kept = all.features.filter((f) => NYC_COUNTIES.includes(String(f.id)));
  if (kept.length !== NYC_COUNTIES.length) throw new Error(`nyc-boroughs: expected ${NYC_COUNTIES.length} counties, found ${kept.length}`);
  const target = path.join(outDir, 'nyc-boroughs.geojson');
  writeFileSync(`${target}.tmp`, JSON.stringify({ type: 'FeatureCollection', features: kept }));
  renameSync(`${target}.tmp`, target);
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`webview assets written to ${buildWebviewAssets()}`);
}
