/**
 * MovieLens titles to the stream's movie-id slugs: "Godfather, The (1972)" -> "the+godfather+1972".
 * A trailing English article (MovieLens sorts "The", "A", "An" to the end) moves back to the
 * front; words are the runs of letters, digits and apostrophes, lowercased, joined by "+"; the
 * year in the last parentheses follows. Latin letters keep their accents (é stays é): the slug
 * only has to be free of whitespace, commas and slashes.
 */
const TRAILING_ARTICLE = /^(.*), (the|a|an)$/i;
const YEAR = /\((\d{4})(?:[–-]\d{0,4})?\)\s*$/;

export function titleSlug(title: string): string {
  let name = title.trim();
  const year = YEAR.exec(name);
  if (year) name = name.slice(0, year.index).trim();
  // "Seven (Se7en)" keeps its alternative title as words; the article may sit before it.
  const article = TRAILING_ARTICLE.exec(name.replace(/\s*\([^)]*\)\s*$/, ""));
  if (article) name = `${article[2]} ${article[1]}${name.slice(article[0].length)}`;
  const words: string[] = name.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  if (year) words.push(year[1]!);
  return words.join("+");
}

/**
 * Slugs for a list of (MovieLens id, title), unique: the lowest id keeps the plain slug, a later
 * id with the same slug gets "+<id>" appended (and an empty slug becomes "movie+<id>").
 *
 *     uniqueSlugs([[1, "Hamlet (1996)"], [2, "Hamlet (1996)"]]) // Map { 1 => "hamlet+1996", 2 => "hamlet+1996+2" }
 */
export function uniqueSlugs(movies: ReadonlyArray<readonly [number, string]>): Map<number, string> {
  const taken = new Set<string>();
  const out = new Map<number, string>();
  for (const [id, title] of [...movies].sort((a, b) => a[0] - b[0])) {
    const base = titleSlug(title) || "movie";
    let slug = base === "movie" ? `movie+${id}` : base;
    for (let n = 0; taken.has(slug); n++) slug = `${base}+${id}${n ? `+${n}` : ""}`;
    taken.add(slug);
    out.set(id, slug);
  }
  return out;
}
