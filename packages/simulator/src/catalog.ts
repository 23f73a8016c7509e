/**
 * The fixed vocabularies the synthetic site draws from: TMDB genre ids, MovieLens-1M
 * occupations with their real frequencies, languages and title words. Weights are relative.
 */

/** TMDB's movie genre ids and names, as the movie info service returns them. */
export const GENRES = [
  { id: 28, name: "Action", weight: 14 },
  { id: 12, name: "Adventure", weight: 8 },
  { id: 16, name: "Animation", weight: 4 },
  { id: 35, name: "Comedy", weight: 20 },
  { id: 80, name: "Crime", weight: 8 },
  { id: 99, name: "Documentary", weight: 3 },
  { id: 18, name: "Drama", weight: 28 },
  { id: 10751, name: "Family", weight: 5 },
  { id: 14, name: "Fantasy", weight: 5 },
  { id: 36, name: "History", weight: 3 },
  { id: 27, name: "Horror", weight: 7 },
  { id: 10402, name: "Music", weight: 3 },
  { id: 9648, name: "Mystery", weight: 4 },
  { id: 10749, name: "Romance", weight: 12 },
  { id: 878, name: "Science Fiction", weight: 6 },
  { id: 10770, name: "TV Movie", weight: 1 },
  { id: 53, name: "Thriller", weight: 12 },
  { id: 10752, name: "War", weight: 3 },
  { id: 37, name: "Western", weight: 2 },
] as const;

/** Mean rating shift per genre: documentaries and war films rate high, horror low (as in MovieLens). */
export const GENRE_BIAS: Record<string, number> = {
  Documentary: 0.3, War: 0.25, History: 0.2, Drama: 0.15, Crime: 0.1, Animation: 0.1, Mystery: 0.05,
  Horror: -0.35, "TV Movie": -0.3, Family: -0.1, Action: -0.1, "Science Fiction": -0.05, Comedy: -0.1,
};

/** MovieLens-1M occupation labels with their user counts in that data set. */
export const OCCUPATIONS = [
  { name: "other", weight: 711 },
  { name: "academic/educator", weight: 528 },
  { name: "artist", weight: 267 },
  { name: "clerical/admin", weight: 173 },
  { name: "college/grad student", weight: 759 },
  { name: "customer service", weight: 112 },
  { name: "doctor/health care", weight: 236 },
  { name: "executive/managerial", weight: 679 },
  { name: "farmer", weight: 17 },
  { name: "homemaker", weight: 92 },
  { name: "K-12 student", weight: 195 },
  { name: "lawyer", weight: 129 },
  { name: "programmer", weight: 388 },
  { name: "retired", weight: 142 },
  { name: "sales/marketing", weight: 302 },
  { name: "scientist", weight: 144 },
  { name: "self-employed", weight: 241 },
  { name: "technician/engineer", weight: 502 },
  { name: "tradesman/craftsman", weight: 70 },
  { name: "unemployed", weight: 72 },
  { name: "writer", weight: 281 },
] as const;

/** Share of men among users (MovieLens-1M: 71.7%); homemakers are mostly women there. */
export const MALE_SHARE = 0.717;
export const MALE_SHARE_HOMEMAKER = 0.08;

export const LANGUAGES = [
  { code: "en", weight: 76 }, { code: "fr", weight: 5 }, { code: "es", weight: 3 }, { code: "ja", weight: 3 },
  { code: "de", weight: 2 }, { code: "it", weight: 2 }, { code: "ko", weight: 2 }, { code: "hi", weight: 2 },
  { code: "zh", weight: 2 }, { code: "sv", weight: 1 }, { code: "ru", weight: 1 }, { code: "da", weight: 1 },
] as const;

export const TITLE_ADJECTIVES = [
  "Silent", "Last", "Dark", "Golden", "Broken", "Hidden", "Lost", "Wild", "Crimson", "Electric", "Frozen",
  "Secret", "Eternal", "Burning", "Distant", "Midnight", "Savage", "Quiet", "Little", "Final", "Endless",
  "Forgotten", "Bright", "Hollow", "Iron", "Velvet", "Restless", "Lonely", "Perfect", "Shattered",
] as const;

export const TITLE_NOUNS = [
  "River", "Kingdom", "Heart", "Road", "Storm", "Empire", "Shadow", "Garden", "City", "Summer", "Winter",
  "Horizon", "Promise", "Island", "Letter", "Station", "Mirror", "Dream", "Frontier", "Harbor", "Witness",
  "Detective", "Stranger", "Machine", "Wolf", "Symphony", "Journey", "Circus", "Heist", "Orchard", "Code",
  "Planet", "Lighthouse", "Dance", "Hunter", "Bride", "Game", "Voyage", "Legacy", "Signal",
] as const;

export const TITLE_PLACES = [
  "Paris", "Tokyo", "Brooklyn", "the Desert", "the North", "Vegas", "Berlin", "the Valley", "Mars", "the Sea",
  "Havana", "Rome", "the Mountain", "Chicago", "the Moon", "Texas", "London", "the Woods",
] as const;

/** Sequel suffixes used to keep `title+year` ids unique when two generated titles collide. */
export const SEQUEL_SUFFIXES = ["II", "III", "IV", "V", "Returns", "Reloaded", "Rising", "Redux"] as const;
