// dated_events: NOT news headlines. No dated headline set is openly available here, so this set holds short dated
// event descriptions: the BSD calendar files shipped by Debian's `calendar` package (history, music, computer,
// birthday) and WordNet's dated battles, wars and other events. The year is removed from the text; entries whose
// text still names a year are dropped so the target does not leak. Duplicate texts: calendar first (file order),
// then WordNet.
import { firstEventYear, hypernymText, lemmaText } from './wordnet-dates.mjs';

export const CALENDAR_FILES = ['history', 'music', 'computer', 'birthday'];

/** A year-like token left in the text would give the target away. */
const YEAR_IN_TEXT = /(?<![\d.])(1\d{3}|20\d\d)(?!\d)|\b\d{1,4}\s*B\.?C\b|\bA\.?D\.? ?\d/;

/**
 * Entries of one calendar file: "MM/DD<TAB>text, YEAR" with continuation lines starting with a tab.
 * Returns {text, year, line} for entries whose text ends in a year; the rest are counted as undated.
 */
export function parseCalendar(source, file) {
  const entries = [];
  let current;
  let inComment = false;
  const lines = source.split('\n');
  const flush = () => {
    if (current !== undefined) entries.push(current);
    current = undefined;
  };
  lines.forEach((rawLine, index) => {
    let line = rawLine;
    if (inComment) {
      const close = line.indexOf('*/');
      if (close === -1) return;
      inComment = false;
      line = line.slice(close + 2);
    }
    if (/^\s*\/\*/.test(line)) {
      flush();
      if (!line.includes('*/')) inComment = true;
      return;
    }
    if (line.startsWith('\t') && current !== undefined) {
      current.raw += ` ${line.trim()}`;
      return;
    }
    flush();
    const match = /^(\d\d)\/(\d\d)\*?\t(.*)$/.exec(line);
    if (match) current = { raw: match[3].trim(), line: index + 1, file };
  });
  flush();
  return entries.map((entry) => {
    const match = /^(.*?),\s*(?:c\.\s*|circa\s+)?(\d{1,4})\s*(BC|B\.C\.|AD|A\.D\.)?\s*\??\s*(?:\([^()]*\))?\s*\.?$/.exec(entry.raw);
    if (!match) return { ...entry, text: undefined, year: undefined };
    const value = Number(match[2]);
    const year = match[3] !== undefined && match[3].startsWith('B') ? -value : value;
    return { ...entry, text: match[1].replace(/[\s;:,-]+$/, '').trim(), year };
  });
}

const EVENT_WORDS = /\b(battle|siege|war|revolution|crusade|campaign|operation|rebellion|uprising|massacre|invasion|treaty|conference|raid|offensive|landing|mutiny|revolt|insurrection|coup|blitz|scandal)\b/i;

/** Name of a WordNet event: its first lemma with an event word, else "Battle of X"/"Siege of X" from the hypernym, else the first lemma. */
export function eventName(synset, hypernym) {
  const lemmas = synset.words.map(lemmaText);
  const named = lemmas.find((lemma) => EVENT_WORDS.test(lemma));
  if (named !== undefined) return named.charAt(0).toUpperCase() + named.slice(1);
  if (/\bsiege\b/.test(hypernym)) return `Siege of ${lemmas[0]}`;
  if (/\bbattle\b/.test(hypernym)) return `Battle of ${lemmas[0]}`;
  return lemmas[0];
}

export default {
  name: 'dated_events',
  kind: 'time',
  file: 'dated_events.csv',
  title: 'Dated events (not headlines)',
  description: "Short dated event descriptions (Debian's BSD calendar files: history, music, computer, birthdays) and WordNet battles, wars and events, with the year removed from the text. A stand-in for the paper's news headlines, which are not openly available here.",
  licence: 'BSD-3-Clause AND WordNet-3.0',
  licenceDetail: "BSD calendar files (UCB BSD licence, per Debian's copyright file); WordNet 3.0 license",
  sourceSummary: 'Debian calendar files, WordNet 3.0',
  blockKind: 'century',
  typeOrder: [],
  columns: ['name', 'year', 'type', 'block', 'is_test', 'source'],
  yearRange: [-3000, 2030],
  maxNameLength: 300,

  async collect(loader) {
    const { files, provenance: calendarSource } = loader.calendarFiles(CALENDAR_FILES);
    const { synsets, provenance: wordnetSource } = loader.wordnetNouns();
    const candidates = [];
    let undated = 0;
    let yearLeftInText = 0;
    files.forEach((file, fileIndex) => {
      for (const entry of parseCalendar(file.text, file.path)) {
        if (entry.text === undefined) {
          undated += 1;
          continue;
        }
        if (YEAR_IN_TEXT.test(entry.text)) {
          yearLeftInText += 1;
          continue;
        }
        candidates.push({ name: entry.text, year: entry.year, type: file.name, source: `calendar.${file.name}`, rank: [0, fileIndex, entry.line] });
      }
    });
    let wordnetEvents = 0;
    for (const synset of synsets.values()) {
      if ((synset.lexFile !== '04' && synset.lexFile !== '11') || !synset.pointers.some((pointer) => pointer.symbol === '@i')) continue;
      const year = firstEventYear(synset.gloss);
      if (year === undefined) continue;
      const hypernym = hypernymText(synset, synsets);
      const name = eventName(synset, hypernym);
      if (YEAR_IN_TEXT.test(name)) {
        yearLeftInText += 1;
        continue;
      }
      wordnetEvents += 1;
      candidates.push({ name, year, type: hypernym || 'event', source: 'wordnet', rank: [1, 0, Number(synset.offset)] });
    }
    return {
      candidates,
      sources: [calendarSource, wordnetSource],
      notes: { calendarEntriesWithoutYear: undated, droppedYearInText: yearLeftInText, wordnetDatedEvents: wordnetEvents },
    };
  },
};
