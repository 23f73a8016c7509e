#!/bin/sh
# The compose stack's one-shot trainer: events (a mounted stream at $RECSYS_EVENTS, else a small
# simulated world) -> ingest -> train behind the gate -> /models/current. A failing step exits
# non-zero (3 for the gate), and compose then never starts the API replicas.
set -eu
world=/data/world
if [ -n "${RECSYS_EVENTS:-}" ]; then
  events=$RECSYS_EVENTS
  side=""
else
  recsys simulate --out "$world" --users "${RECSYS_SIM_USERS:-1500}" --movies "${RECSYS_SIM_MOVIES:-400}" \
    --days "${RECSYS_SIM_DAYS:-30}" --seed "${RECSYS_SEED:-42}"
  events=$world/events.log
  side="--users $world/users.jsonl --movies $world/movies.jsonl"
fi
# shellcheck disable=SC2086 # $side is two flag pairs or nothing
recsys ingest --events "$events" $side --out /data/dataset
# train's defaults beat the biases-only baseline on the simulated world; RECSYS_REG overrides only when set.
recsys train --data /data/dataset --out /models/current --seed "${RECSYS_SEED:-42}" ${RECSYS_REG:+--reg "$RECSYS_REG"} --gate-rmse "${RECSYS_GATE_RMSE:-1.0}" --json
