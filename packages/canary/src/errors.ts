/** Stable codes of the InputErrors (exit 2) this package throws; tests assert on these. */
export const CANARY_ERROR = {
  badWindow: "RECSYS_BAD_WINDOW",
  badConfig: "RECSYS_BAD_CANARY_CONFIG",
  badReleases: "RECSYS_BAD_CANARY_RELEASES",
  badFile: "RECSYS_BAD_FILE",
  badTelemetry: "RECSYS_BAD_TELEMETRY",
  noRequests: "RECSYS_NO_REQUESTS",
  unknownRelease: "RECSYS_UNKNOWN_RELEASE",
} as const;
