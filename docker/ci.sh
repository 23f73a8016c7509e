#!/usr/bin/env bash
# The few lines of shell the GitLab pipeline's jobs need beyond one `recsys` command, kept out of
# .gitlab-ci.yml so the YAML only orders steps and the same steps run by hand:
#
#   docker/ci.sh collect          events into data/world/: the stream in $RECSYS_STREAM_DIR (the
#                                 simulator's layout: events.log, users.jsonl, movies.jsonl), else
#                                 a simulated world of $RECSYS_SIM_USERS x $RECSYS_SIM_MOVIES x $RECSYS_SIM_DAYS
#   docker/ci.sh dvc pull|push    DVC where a remote is configured; skipped (saying so) otherwise
#   docker/ci.sh canary           recsys deploy of models/candidate (trained on data/dataset) into the platform at
#                                 $RECSYS_STATE_DIR; the record goes to release/record.json and the
#                                 exit code (0 promoted, 5 rolled back) to release/exit-code
#   docker/ci.sh analyse          the canary's evidence: each check's verdict and figures, and its
#                                 HTML report copied to release/report.html
#   docker/ci.sh verdict          exits with the deploy's code: the canary verdict is the job's outcome
set -euo pipefail
recsys() { npx -y pnpm@12.4.2 --silent recsys "$@"; }

case "${1:-}" in
  collect)
    if [ -n "${RECSYS_STREAM_DIR:-}" ]; then
      mkdir -p data/world
      for f in events.log users.jsonl movies.jsonl; do cp "$RECSYS_STREAM_DIR/$f" data/world/; done
      echo "collect: stream from $RECSYS_STREAM_DIR"
    else
      recsys simulate --out data/world --users "${RECSYS_SIM_USERS:-1500}" --movies "${RECSYS_SIM_MOVIES:-400}" \
        --days "${RECSYS_SIM_DAYS:-30}" --seed "${RECSYS_SEED:-42}"
    fi
    ;;
  dvc)
    verb=${2:?dvc pull or dvc push}
    if command -v dvc >/dev/null 2>&1 && [ -n "$(dvc remote list 2>/dev/null)" ]; then
      dvc "$verb"
    else
      echo "dvc $verb: skipped (no dvc, or no remote configured: dvc remote add -d NAME URL)"
    fi
    ;;
  canary)
    mkdir -p release
    : "${RECSYS_STATE_DIR:?RECSYS_STATE_DIR must name the serving host platform state directory (a CI variable)}"
    code=0
    recsys deploy --model models/candidate --data data/dataset --state "$RECSYS_STATE_DIR" --driver "${RECSYS_DRIVER:-process}" \
      ${RECSYS_WATCHES:+--watches "$RECSYS_WATCHES"} ${RECSYS_CANARY_CONFIG:+--canary-config "$RECSYS_CANARY_CONFIG"} \
      --interval "${RECSYS_CANARY_INTERVAL:-10}" --max-wait "${RECSYS_CANARY_MAX_WAIT:-600}" --json > release/record.json || code=$?
    echo "$code" > release/exit-code
    # 0 promoted, 5 rolled back: both are verdicts, for the analyse and promote jobs to report.
    # Anything else (no platform, a bug, a refused model) fails here.
    [ "$code" = 0 ] || [ "$code" = 5 ]
    ;;
  analyse)
    : "${RECSYS_STATE_DIR:?RECSYS_STATE_DIR must name the serving host platform state directory (a CI variable)}"
    node -e '
      const fs = require("fs");
      const r = JSON.parse(fs.readFileSync("release/record.json", "utf8"));
      const lines = [`release ${r.releaseId} (model ${r.modelId}, commit ${r.commit}): ${r.verdict}`, `  reason: ${r.reason}`];
      // A check that did not run is null (the per-group one without a users file).
      for (const [name, t] of Object.entries(r.evidence?.tests ?? {})) lines.push(`  ${name}: ${t?.status ?? "not run"}`);
      fs.writeFileSync("release/analysis.txt", lines.join("\n") + "\n");
      console.log(lines.join("\n"));
      fs.copyFileSync(`${process.argv[1]}/reports/${r.releaseId}.html`, "release/report.html");' "$RECSYS_STATE_DIR"
    ;;
  verdict)
    code=$(cat release/exit-code)
    echo "canary verdict: $(node -p 'require("./release/record.json").verdict') (exit $code)"
    exit "$code"
    ;;
  *)
    echo "docker/ci.sh: unknown step '${1:-}'; use collect, dvc pull|push, canary, analyse or verdict" >&2
    exit 2
    ;;
esac
