/** What each measure of the report means; the README's table says the same. */
export const METRIC_DEFINITIONS: ReadonlyArray<{ metric: string; definition: string }> = [
  { metric: "coverage", definition: "Share of the world's catalogue that appeared in at least one user's list this round." },
  { metric: "exposureGini", definition: "Gini coefficient of how many lists each movie of the catalogue appeared in this round (0: all equally; near 1: a few movies get all the exposure)." },
  { metric: "top1Share", definition: "Share of this round's watches that went to the top 1% of movies (at least one), ranked by this round's watches." },
  { metric: "homogenisation", definition: "Mean Jaccard similarity |A∩B|/|A∪B| of the sets of movies two users watched during the loop so far, over every pair of users who watched something (Chaney, Stewart and Engelhardt 2018)." },
  { metric: "utility", definition: "True utility per visit: mean over all users of the noise-free true rating (simulator ground truth, 1-5) of the movie they picked from their list, 0 for a list they ignored." },
  { metric: "watchRate", definition: "Share of users who picked a movie from their list this round." },
  { metric: "rmse", definition: "RMSE of the serving model's predictions on the ratings users gave this round (fresh ratings the model has not seen)." },
  { metric: "rmse:<group>", definition: "The same RMSE over the ratings of one group's users (gender:F, gender:M, age:<band>)." },
  { metric: "pushedInGroupShare", definition: "Of the users who watched the pushed movie during the loop so far, the share in the pushed group." },
];
