// historical_figures: Pantheon 1.0 biographies, plus WordNet people with dates who are not in Pantheon.
// Target: BIRTH year. The paper used death year, but death years are known here only for the people WordNet dates
// (a few thousand), so the set uses birth year for every row and gives death_year where WordNet has it.
// Duplicate names: Pantheon first (lowest Wikipedia page id), then WordNet.
import { hypernymText, lemmaText, personDates } from './wordnet-dates.mjs';

const TITLES = new Set(['president', 'king', 'queen', 'saint', 'st', 'sir', 'lord', 'lady', 'dr', 'general', 'pope', 'emperor', 'empress',
  'czar', 'tsar', 'tzar', 'prince', 'princess', 'duke', 'mrs', 'mr', 'mother', 'father', 'brother', 'sister', 'rabbi', 'imam', 'sheik',
  'cardinal', 'bishop', 'admiral', 'captain', 'colonel', 'marshal', 'chief', 'justice', 'el', 'al']);

/** Pantheon writes -3500 for legendary or undated people (Gilgamesh, Methuselah, Diogenes Laertius…): not a year. */
const PANTHEON_UNKNOWN_BIRTH_YEAR = -3500;

/** Pantheon mixes "UNITED STATES" and "United States", and writes "Unknown": one spelling, empty when unknown. */
export function countryText(raw) {
  const text = String(raw ?? '').trim();
  if (text === '' || text.toLowerCase() === 'unknown') return '';
  return text === text.toUpperCase() ? text.toLowerCase().replace(/(^|[\s-])(\p{L})/gu, (_match, lead, letter) => `${lead}${letter.toUpperCase()}`)
    .replace(/(?<= )(And|Of|The)(?= )/g, (word) => word.toLowerCase()) : text;
}

/** The lemma to show: the first multi-word lemma that does not start with a title, e.g. "Alvar Aalto" of Aalto/Alvar_Aalto/… */
export function displayLemma(words) {
  const texts = words.map(lemmaText);
  const multi = texts.filter((text) => text.includes(' ') && !/^\d/.test(text)); // not "1st Baron Beaverbrook"
  return multi.find((text) => !TITLES.has(text.split(' ')[0].toLowerCase().replace(/\.$/, ''))) ?? multi[0] ?? texts[0];
}

export default {
  name: 'historical_figures',
  kind: 'time',
  file: 'historical_figures.csv',
  title: 'Historical figures',
  description: 'Famous people with their BIRTH year (Pantheon 1.0, CC0, plus WordNet people not in Pantheon); death_year where WordNet gives it. The paper used death year; see DATASETS.md.',
  licence: 'CC0-1.0 AND WordNet-3.0',
  licenceDetail: 'Pantheon 1.0 CC0 1.0; WordNet 3.0 license (Princeton, permissive with notice)',
  sourceSummary: 'Pantheon 1.0, WordNet 3.0',
  blockKind: 'century',
  typeOrder: [],
  columns: ['name', 'year', 'death_year', 'type', 'country', 'block', 'is_test', 'source'],
  yearRange: [-4000, 2010],
  maxNameLength: 120,

  async collect(loader, nameKey) {
    const { people, provenance: pantheonSource } = loader.pantheon();
    const { synsets, provenance: wordnetSource } = loader.wordnetNouns();

    // WordNet people with dates, indexed by every lemma.
    const datedPeople = [];
    const byLemma = new Map();
    for (const synset of synsets.values()) {
      if (synset.lexFile !== '18' || !synset.pointers.some((pointer) => pointer.symbol === '@i')) continue;
      const dates = personDates(synset.gloss);
      if (dates === undefined) continue;
      const person = { synset, ...dates, matched: false };
      datedPeople.push(person);
      for (const word of synset.words) {
        const key = nameKey(lemmaText(word));
        if (!byLemma.has(key)) byLemma.set(key, []);
        byLemma.get(key).push(person);
      }
    }

    const candidates = [];
    let unparsedBirthYears = 0;
    let unknownBirthYears = 0;
    let deathYearsJoined = 0;
    let birthYearDisagreements = 0;
    for (const person of people) {
      if (!/^-?\d{1,4}$/.test(person.birthYear)) {
        unparsedBirthYears += 1; // "530s", "1237?", "Unknown"
        continue;
      }
      const birth = Number(person.birthYear);
      if (birth === PANTHEON_UNKNOWN_BIRTH_YEAR) {
        unknownBirthYears += 1;
        continue;
      }
      // Death year from WordNet only when exactly one dated WordNet person of that name was born within a year of Pantheon's date.
      const sameName = byLemma.get(nameKey(person.name)) ?? [];
      const agreeing = sameName.filter((entry) => entry.birth !== undefined && Math.abs(entry.birth - birth) <= 1);
      if (sameName.length > 0 && agreeing.length === 0) birthYearDisagreements += 1;
      for (const entry of agreeing) entry.matched = true;
      let deathYear = '';
      if (agreeing.length === 1 && agreeing[0].death !== undefined) {
        deathYear = String(agreeing[0].death);
        deathYearsJoined += 1;
      }
      candidates.push({
        name: person.name, year: birth, death_year: deathYear, type: person.occupation.toLowerCase(),
        country: countryText(person.country), source: 'pantheon', rank: [0, person.id],
      });
    }
    let wordnetOnly = 0;
    for (const person of datedPeople) {
      if (person.matched || person.birth === undefined) continue;
      wordnetOnly += 1;
      candidates.push({
        name: displayLemma(person.synset.words), year: person.birth, death_year: person.death === undefined ? '' : String(person.death),
        type: hypernymText(person.synset, synsets), country: '', source: 'wordnet', rank: [1, person.synset.offset],
      });
    }
    return {
      candidates,
      sources: [pantheonSource, wordnetSource],
      notes: { pantheonUnparsedBirthYears: unparsedBirthYears, pantheonPlaceholderBirthYears: unknownBirthYears, deathYearsJoinedFromWordNet: deathYearsJoined, pantheonWordNetBirthYearDisagreements: birthYearDisagreements, wordnetPeopleWithDates: datedPeople.length, wordnetOnlyCandidates: wordnetOnly },
    };
  },
};
