import { normalizeGender, type User } from "@recsys/core";
import type { FairnessConfig } from "./config.ts";

/** Each attribute's group label per user id; a user without the field is in no group of it. */
export type GroupAssignment = Map<string, Map<number, string>>;

/** Fields of users.jsonl that are ids or numbers, not categories. */
const NOT_CATEGORICAL = new Set(["user_id", "age", "gender"]);

function band(age: number, bands: FairnessConfig["ageBands"]): string {
  return bands.find((b) => age <= b.max)?.label ?? `>${bands.at(-1)!.max}`;
}

/**
 * The groups of every user: gender, age band, age x gender, and every other string field of
 * the users file (occupation in MovieLens and the simulator). Attributes nobody has are left
 * out, so a dataset without demographics yields an empty map.
 *
 *     groupUsers(users, config).get("age_gender")?.get(17) // "F:25-34"
 */
export function groupUsers(users: readonly User[], config: Pick<FairnessConfig, "ageBands">): GroupAssignment {
  const out: GroupAssignment = new Map();
  const put = (attr: string, id: number, label: string) => {
    let m = out.get(attr);
    if (!m) out.set(attr, (m = new Map()));
    m.set(id, label);
  };
  for (const u of users) {
    const gender = u.gender !== undefined && u.gender.trim() !== "" ? normalizeGender(u.gender) : undefined;
    const age = u.age !== undefined ? band(u.age, config.ageBands) : undefined;
    if (gender) put("gender", u.user_id, gender);
    if (age) put("age", u.user_id, age);
    if (gender && age) put("age_gender", u.user_id, `${gender}:${age}`);
    for (const [key, value] of Object.entries(u)) {
      if (!NOT_CATEGORICAL.has(key) && typeof value === "string" && value.trim() !== "") put(key, u.user_id, value.trim());
    }
  }
  return out;
}

/** Group labels of an attribute in a stable order: age bands in band order, others sorted. */
export function groupLabels(assignment: Map<number, string>, config: Pick<FairnessConfig, "ageBands">): string[] {
  const labels = [...new Set(assignment.values())];
  const bandOrder = new Map(config.ageBands.map((b, i) => [b.label, i]));
  const key = (l: string) => {
    const [g, a] = l.includes(":") ? l.split(":") : ["", l];
    return [g!, bandOrder.get(a!) ?? -1] as const;
  };
  return labels.sort((x, y) => {
    const [gx, bx] = key(x), [gy, by] = key(y);
    return gx < gy ? -1 : gx > gy ? 1 : bx !== by ? bx - by : x < y ? -1 : x > y ? 1 : 0;
  });
}
