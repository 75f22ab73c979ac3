// nyc_places: GeoNames neighbourhoods of the five boroughs, subway stations, LIRR/Metro-North stations inside the
// city, and bus stops (mostly street crossings) from the MTA's static GTFS feeds. The borough comes from GeoNames'
// county code for neighbourhoods and from the US Census county polygons (us-atlas, 1:10M) for stops; stops outside
// all five polygons are dropped. Duplicate names: neighbourhood, then subway, rail, bus; within a kind the lowest
// GTFS stop_id. "A & B" and "B & A" count as the same crossing.

const BOROUGH_BY_COUNTY_FIPS = new Map([['36005', 'Bronx'], ['36047', 'Brooklyn'], ['36061', 'Manhattan'], ['36081', 'Queens'], ['36085', 'Staten Island']]);
const BUS_FEEDS = ['bus_m', 'bus_bx', 'bus_bk', 'bus_qns', 'bus_si', 'bus_busco'];

/** Acronyms kept upper-case when MTA's upper-case stop names are re-cased. */
const KEEP_UPPER = new Set(['JFK', 'LIRR', 'CUNY', 'SUNY', 'NYCHA', 'YMCA', 'YWCA', 'NYU', 'LIU', 'MTA', 'NYC', 'NY', 'NJ', 'US', 'USPS',
  'FDR', 'BQE', 'LIE', 'PS', 'IS', 'JHS', 'HS', 'MS', 'LGA', 'II', 'III', 'IV', 'VA', 'CVS', 'SI', 'NYPD', 'FDNY', 'NYS', 'DOT', 'HQ',
  'IKEA', 'MLK', 'IRT', 'BMT', 'IND', 'CUNY/SUNY', 'SIUH', 'HHC', 'SRO', 'PATH', 'RR', 'LA', 'TV', 'UPS', 'YM', 'AT&T', 'AMC', 'BJ', 'PO']);

function recaseWord(word) {
  if (/[a-z]/.test(word) || KEEP_UPPER.has(word) || word.length === 1) return word;
  if (/\d/.test(word)) return word.toLowerCase();
  return word.split('-').map((part) => part.replace(/^([^A-Z]*)([A-Z])([A-Z]*)(?:'([A-Z]+))?/, (_match, lead, first, rest, afterApostrophe) => {
    if (afterApostrophe === undefined) return `${lead}${first}${rest.toLowerCase()}`;
    // O'BRIEN → O'Brien, JOHN'S → John's
    const tail = rest === '' ? afterApostrophe.charAt(0) + afterApostrophe.slice(1).toLowerCase() : afterApostrophe.toLowerCase();
    return `${lead}${first}${rest.toLowerCase()}'${tail}`;
  })).join('-');
}

/** "BOSTON RD/E 180 ST" → "Boston Rd & E 180 St" (the MTA's own subway style: "Av", "St"). */
export function busStopName(raw) {
  return raw.split('/').map((part) => part.trim().split(/\s+/).map(recaseWord).join(' ')).filter((part) => part !== '').join(' & ');
}

export default {
  name: 'nyc_places',
  kind: 'space',
  file: 'nyc_places.csv',
  title: 'NYC places',
  description: 'New York City neighbourhoods (GeoNames), subway and commuter-rail stations and bus stops at street crossings (MTA static GTFS), with borough. No landmarks, parks, schools or buildings.',
  licence: 'CC-BY-4.0 AND MTA-feed-terms AND public-domain',
  licenceDetail: 'GeoNames CC BY 4.0; MTA static GTFS under the MTA data feed terms; US Census borough polygons public domain',
  sourceSummary: 'GeoNames, MTA GTFS, US Census',
  blockKind: 'borough',
  typeOrder: ['neighbourhood', 'subway_station', 'rail_station', 'bus_stop'],
  columns: ['name', 'latitude', 'longitude', 'type', 'borough', 'block', 'is_test', 'source', 'source_id'],
  bounds: [40.49, -74.26, 40.92, -73.69],
  maxNameLength: 120,

  /** Crossings are unordered: "A & B" and "B & A" are one place. */
  dedupeKey(row, nameKey) {
    const key = nameKey(row.name);
    return key.includes('&') ? key.split('&').sort().join('&') : key;
  },

  async collect(loader) {
    const { cities, provenance: gazetteerSource } = loader.citiesJson();
    const { stops, provenance: mtaSource } = loader.mtaStops();
    const { counties, provenance: atlasSource } = await loader.usAtlas();
    const { geoContains } = await loader.d3Geo();
    const boroughs = counties.filter((county) => BOROUGH_BY_COUNTY_FIPS.has(county.id));
    if (boroughs.length !== 5) throw new Error(`expected the five NYC counties in us-atlas, found ${boroughs.length}`);
    const boroughAt = (longitude, latitude) => {
      const county = boroughs.find((candidate) => geoContains(candidate, [longitude, latitude]));
      return county === undefined ? undefined : BOROUGH_BY_COUNTY_FIPS.get(county.id);
    };

    const candidates = [];
    let outsideBoroughs = 0;
    for (const place of cities) {
      if (place.country !== 'US' || place.admin1 !== 'NY') continue;
      const borough = BOROUGH_BY_COUNTY_FIPS.get(`36${place.admin2}`);
      if (borough === undefined) continue;
      candidates.push({
        name: place.name, latitude: place.latitude, longitude: place.longitude, type: 'neighbourhood', borough, block: borough,
        source: 'geonames', source_id: '', rank: [0, ''],
      });
    }
    for (const stop of stops) {
      let type;
      let rank;
      let name = stop.name;
      if (stop.feed === 'subway') {
        if (stop.locationType !== '1') continue; // platforms (N/S) repeat their parent station
        type = 'subway_station';
        rank = [1, stop.id];
      } else if (stop.feed === 'lirr' || stop.feed === 'mnr') {
        type = 'rail_station';
        rank = [2, stop.id];
      } else if (BUS_FEEDS.includes(stop.feed)) {
        type = 'bus_stop';
        name = busStopName(stop.name);
        rank = [3, BUS_FEEDS.indexOf(stop.feed), stop.id];
      } else {
        continue;
      }
      const borough = boroughAt(stop.longitude, stop.latitude);
      if (borough === undefined) {
        outsideBoroughs += 1;
        continue;
      }
      candidates.push({
        name, latitude: stop.latitude, longitude: stop.longitude, type, borough, block: borough,
        source: `mta-${stop.feed}`, source_id: stop.id, rank,
      });
    }
    return { candidates, sources: [gazetteerSource, mtaSource, atlasSource], notes: { stopsOutsideBoroughs: outsideBoroughs } };
  },
};
