/**
 * MovieLens genre names mapped onto the TMDB genre ids and names that the movie info service
 * (and so the event-stream datasets) use, so that genre analyses line up across sources.
 * Film-Noir and IMAX have no TMDB genre: they get ids from a private range (90001+).
 * ml-100k's "unknown" flag and ml-latest's "(no genres listed)" map to no genre.
 */
const GENRES: Record<string, { id: number; name: string } | null> = {
  "unknown": null,
  "(no genres listed)": null,
  "Action": { id: 28, name: "Action" },
  "Adventure": { id: 12, name: "Adventure" },
  "Animation": { id: 16, name: "Animation" },
  "Children's": { id: 10751, name: "Family" },
  "Children": { id: 10751, name: "Family" },
  "Comedy": { id: 35, name: "Comedy" },
  "Crime": { id: 80, name: "Crime" },
  "Documentary": { id: 99, name: "Documentary" },
  "Drama": { id: 18, name: "Drama" },
  "Fantasy": { id: 14, name: "Fantasy" },
  "Film-Noir": { id: 90001, name: "Film-Noir" },
  "Horror": { id: 27, name: "Horror" },
  "IMAX": { id: 90002, name: "IMAX" },
  "Musical": { id: 10402, name: "Music" },
  "Mystery": { id: 9648, name: "Mystery" },
  "Romance": { id: 10749, name: "Romance" },
  "Sci-Fi": { id: 878, name: "Science Fiction" },
  "Thriller": { id: 53, name: "Thriller" },
  "War": { id: 10752, name: "War" },
  "Western": { id: 37, name: "Western" },
};

/** ml-100k's u.item genre flag columns, in file order (as its u.genre lists them). */
export const ML100K_GENRES = [
  "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
  "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
] as const;

/** Genre records for MovieLens names; names it does not know are left out. */
export function mapGenres(names: Iterable<string>): { id: number; name: string }[] {
  const out: { id: number; name: string }[] = [];
  for (const name of names) {
    const g = GENRES[name];
    if (g && !out.some((o) => o.id === g.id)) out.push(g);
  }
  return out;
}
