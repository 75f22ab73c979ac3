// Year parsing for WordNet glosses. People carry their dates in a parenthesis, "(1809-1865)", "(circa 370-330 BC)",
// "(14 BC - AD 33)", "(born in 1934)", "(1928-)"; events mention years in running text ("in 1415", "(1942-1943)").
// Years BC are negative (384 BC → -384), as in Pantheon; there is no year 0 correction.

const QUALIFIERS = /\b(circa|ca\.?|c\.?|about|approximately|probably|possibly)\s*/g;

function parseYear(text, impliedEra) {
  const match = /^(ad\s*)?(\d{1,4})(\s*bc)?$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[2]);
  const bc = match[3] !== undefined || (match[1] === undefined && impliedEra === 'bc');
  return bc ? -value : value;
}

/** {birth, death} from a person gloss; either may be undefined. Returns undefined when no date parenthesis parses. */
export function personDates(gloss) {
  const parentheses = [...gloss.matchAll(/\(([^()]*\d[^()]*)\)/g)].map((match) => match[1]);
  for (const raw of parentheses.reverse()) {
    const text = raw.toLowerCase().replace(/\?/g, '').replace(QUALIFIERS, '').replace(/\s+/g, ' ').trim();
    if (/\b(fl|flourished|century|centuries|active|reigned|s\b)/.test(text) || /\d0s\b/.test(text)) continue;
    let match = /^born (?:in )?(.+)$/.exec(text);
    if (match) {
      const birth = parseYear(match[1]);
      if (birth !== undefined) return { birth, death: undefined };
      continue;
    }
    match = /^died (?:in )?(.+)$/.exec(text);
    if (match) {
      const death = parseYear(match[1]);
      if (death !== undefined) return { birth: undefined, death };
      continue;
    }
    const parts = text.split(/\s*(?:-|–| to )\s*/);
    if (parts.length !== 2) continue;
    const secondEra = /bc$/.test(parts[1]) ? 'bc' : undefined;
    const birth = parts[0] === '' ? undefined : parseYear(parts[0], secondEra);
    const death = parts[1] === '' ? undefined : parseYear(parts[1]);
    if ((parts[0] !== '' && birth === undefined) || (parts[1] !== '' && death === undefined)) continue;
    if (birth === undefined && death === undefined) continue;
    if (birth !== undefined && death !== undefined && (death < birth || death - birth > 120)) continue;
    return { birth, death };
  }
  return undefined;
}

/**
 * The first year an event gloss mentions ("in 1415", "(1942-1943)" → 1942, "in 490 BC" → -490), or undefined.
 * Counted as years: a number followed by BC (also as the start of a BC range), "AD" followed by a number, a four-digit number 1000–2029, or a
 * three-digit number after "in/of/from/since/until/by" (so "146 English prisoners" is not a year).
 */
export function firstEventYear(gloss) {
  const text = gloss.replace(/\b\d{1,3}(,\d{3})+\b/g, (match) => ' '.repeat(match.length));
  const patterns = [
    [/(?<![\d.])(\d{1,4})\s*-\s*\d{1,4}\s*BC\b/g, (value) => -value],
    [/(?<![\d.])(\d{1,4})\s*BC\b/g, (value) => -value],
    [/\bAD\s*(\d{1,4})\b/g, (value) => value],
    [/(?<![\d.])(1\d{3}|20[0-2]\d)(?![\d])/g, (value) => value],
    [/\b(?:in|of|from|since|until|by) (\d{3})(?![\d])/g, (value) => value],
  ];
  let best;
  for (const [pattern, toYear] of patterns) {
    for (const match of text.matchAll(pattern)) {
      const position = match.index + match[0].indexOf(match[1]);
      if (best === undefined || position < best.position) best = { position, year: toYear(Number(match[1])) };
      break;
    }
  }
  return best?.year;
}

/** Lemma as text: "Abraham_Lincoln" → "Abraham Lincoln", adjective markers "(a)" dropped. */
export function lemmaText(word) {
  return word.replace(/\([a-z]+\)$/, '').replaceAll('_', ' ');
}

/** Words of the first instance (@i) or class (@) hypernym, e.g. "sculptor". */
export function hypernymText(synset, synsets) {
  const pointer = synset.pointers.find((entry) => entry.symbol === '@i') ?? synset.pointers.find((entry) => entry.symbol === '@');
  const target = pointer === undefined ? undefined : synsets.get(pointer.offset);
  return target === undefined ? '' : lemmaText(target.words[0]).toLowerCase();
}
