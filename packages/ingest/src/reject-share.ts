import { badMaxRejectShare, nothingAccepted, REJECT_REASONS, tooManyRejects } from "./errors.ts";
import type { QualityReport } from "./quality.ts";

/** Real streams reject ~1-2 % (the simulator's dirt); past this share ingest warns on stderr. */
export const WARN_REJECT_SHARE = 0.05;
/** Past this share (unless --max-reject-share says otherwise) the input is refused. */
export const DEFAULT_MAX_REJECT_SHARE = 0.5;

/** The share of non-blank lines rejected, with the two limits, as quality.json records it. */
export interface RejectShare { value: number; warnAbove: number; failAbove: number }

/** Checks a --max-reject-share before any work (exit 2 outside 0..1); undefined -> the default. */
export function maxRejectShare(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_REJECT_SHARE;
  if (!(value >= 0 && value <= 1)) throw badMaxRejectShare(value);
  return value;
}

export function rejectShare(lines: QualityReport["lines"], failAbove: number): RejectShare {
  const judged = lines.accepted + lines.rejected;
  const value = judged === 0 ? 0 : Math.round((lines.rejected / judged) * 1e6) / 1e6;
  return { value, warnAbove: Math.min(WARN_REJECT_SHARE, failAbove), failAbove };
}

/** The three commonest reject reasons with their counts: `truncated 12, bad_time 3`. */
function topReasons(q: QualityReport): string {
  const top = REJECT_REASONS.filter((r) => q.rejects[r] > 0).sort((a, b) => q.rejects[b] - q.rejects[a]).slice(0, 3);
  return top.map((r) => `${r} ${q.rejects[r]}`).join(", ");
}

function describe(q: QualityReport): string {
  return `${(q.rejectShare.value * 100).toFixed(1)}% of lines rejected (${q.lines.rejected} of ${q.lines.accepted + q.lines.rejected}: ${topReasons(q)})`;
}

/**
 * Refuses a run whose output cannot be right: nothing accepted, or a rejected share above the
 * limit. Called before the dataset is renamed into place, so an earlier dataset stays.
 */
export function assertAcceptable(q: QualityReport, input: string): void {
  if (q.lines.accepted === 0) {
    const why = q.lines.total === 0 ? "the input is empty"
      : q.lines.rejected === 0 ? `only ${q.lines.blank} blank lines`
      : `all ${q.lines.rejected} non-blank lines rejected: ${topReasons(q)}`;
    throw nothingAccepted(input, why);
  }
  if (q.rejectShare.value > q.rejectShare.failAbove) throw tooManyRejects(input, describe(q), q.rejectShare.failAbove);
}

/** The stderr warning for a notable but allowed rejected share, or null. */
export function rejectShareWarning(q: QualityReport): string | null {
  if (q.rejectShare.value <= q.rejectShare.warnAbove) return null;
  return `warning: ${describe(q)}, above ${q.rejectShare.warnAbove * 100}%`;
}
