import type { Rng, User } from "@recsys/core";
import { ageBand, AGE_BANDS } from "@recsys/core";
import {
  GENRES, OCCUPATIONS, LANGUAGES, MALE_SHARE, MALE_SHARE_HOMEMAKER,
  TITLE_ADJECTIVES, TITLE_NOUNS, TITLE_PLACES, SEQUEL_SUFFIXES,
} from "./catalog.ts";
import { pickWeighted, clamp } from "./sampling.ts";

/** Users as the info service returns them, plus the group indices the truth model keys on. */
export interface Population {
  users: User[];
  /** 1 for men, 0 for women. */
  male: Uint8Array;
  /** Index into core's AGE_BANDS. */
  ageBand: Uint8Array;
}

const OCCUPATION_WEIGHTS = OCCUPATIONS.map((o) => o.weight);
const GENRE_WEIGHTS = GENRES.map((g) => g.weight);
const LANGUAGE_WEIGHTS = LANGUAGES.map((l) => l.weight);
const BAND_INDEX = new Map<string, number>(AGE_BANDS.map((b, i) => [b.label, i]));

/** Age given occupation: students young, retirees old, the rest skewed right around 30-40 (as ml-100k). */
function drawAge(rng: Rng, occupation: string): number {
  switch (occupation) {
    case "K-12 student": return 11 + rng.int(8);
    case "college/grad student": return clamp(18 + Math.floor(Math.abs(rng.normal()) * 4.5), 18, 40);
    case "retired": return clamp(56 + Math.floor(Math.abs(rng.normal()) * 8), 50, 85);
    default: return clamp(Math.round(19 + Math.exp(Math.log(14) + 0.55 * rng.normal())), 19, 73);
  }
}

/** Users 1..n with MovieLens-like occupation mix, age skew and a ~72/28 M/F split. */
export function makePopulation(rng: Rng, n: number): Population {
  const users: User[] = new Array(n);
  const male = new Uint8Array(n);
  const band = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const occupation = OCCUPATIONS[pickWeighted(rng, OCCUPATION_WEIGHTS)]!.name;
    const age = drawAge(rng, occupation);
    const isMale = rng.next() < (occupation === "homemaker" ? MALE_SHARE_HOMEMAKER : MALE_SHARE);
    male[i] = isMale ? 1 : 0;
    band[i] = BAND_INDEX.get(ageBand(age))!;
    users[i] = { user_id: i + 1, age, occupation, gender: isMale ? "M" : "F" };
  }
  return { users, male, ageBand: band };
}

/** A movie's side information before the truth model gives it its vote fields. */
export interface MovieDraft {
  id: string;
  title: string;
  /** Indices into GENRES. */
  genres: number[];
  releaseDate: string;
  runtime: number;
  /** Relative popularity (lognormal): browsing weight and the TMDB `popularity` field. */
  popularity: number;
  language: string;
}

function drawTitle(rng: Rng): string {
  const adj = TITLE_ADJECTIVES[rng.int(TITLE_ADJECTIVES.length)]!;
  const noun = TITLE_NOUNS[rng.int(TITLE_NOUNS.length)]!;
  const place = TITLE_PLACES[rng.int(TITLE_PLACES.length)]!;
  switch (rng.int(6)) {
    case 0: return `The ${adj} ${noun}`;
    case 1: return `${adj} ${noun}`;
    case 2: return `The ${noun} of ${place}`;
    case 3: return `${adj} in ${place}`;
    case 4: return `The ${noun}`;
    default: return `${noun}s of the ${adj} ${TITLE_NOUNS[rng.int(TITLE_NOUNS.length)]!}`;
  }
}

/** `The Godfather` (1972) -> `the+godfather+1972`: lowercase words joined by `+`, no punctuation. */
export function movieSlug(title: string, year: number): string {
  const words = title.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").split(" ").filter(Boolean);
  return [...words, String(year)].join("+");
}

/** A title whose slug is not taken yet: on a collision it becomes a sequel, then gets a number. */
function uniqueTitle(rng: Rng, year: number, taken: Set<string>): { title: string; id: string } {
  const base = drawTitle(rng);
  for (const suffix of ["", ...SEQUEL_SUFFIXES]) {
    const title = suffix ? `${base} ${suffix}` : base;
    const id = movieSlug(title, year);
    if (!taken.has(id)) return { title, id };
  }
  for (let k = 2; ; k++) {
    const title = `${base} ${k}`;
    const id = movieSlug(title, year);
    if (!taken.has(id)) return { title, id };
  }
}

function drawGenres(rng: Rng): number[] {
  const count = 1 + pickWeighted(rng, [4, 4, 2]);
  const out: number[] = [];
  while (out.length < count) {
    const g = pickWeighted(rng, GENRE_WEIGHTS);
    if (!out.includes(g)) out.push(g);
  }
  return out;
}

function drawRuntime(rng: Rng, genres: number[]): number {
  const names = genres.map((g) => GENRES[g]!.name as string);
  const mean = names.includes("Animation") ? 88 : names.includes("Documentary") ? 95 : names.includes("History") || names.includes("War") ? 128 : 106;
  return clamp(Math.round(mean + 17 * rng.normal()), 70, 200);
}

/** n movies with unique slug ids, recent-skewed release years and a heavy-tailed popularity. */
export function makeMovieDrafts(rng: Rng, n: number): MovieDraft[] {
  const taken = new Set<string>();
  const out: MovieDraft[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const year = clamp(2023 - Math.floor(-Math.log(1 - rng.next()) * 16), 1925, 2023);
    const { title, id } = uniqueTitle(rng, year, taken);
    taken.add(id);
    const genres = drawGenres(rng);
    const month = 1 + rng.int(12);
    const day = 1 + rng.int(28);
    out[i] = {
      id, title, genres,
      releaseDate: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      runtime: drawRuntime(rng, genres),
      popularity: Math.exp(1.25 * rng.normal() + 0.02 * (year - 2000)),
      language: LANGUAGES[pickWeighted(rng, LANGUAGE_WEIGHTS)]!.code,
    };
  }
  return out;
}
