#!/usr/bin/env bash
# Runs the real .gitlab-ci.yml here with gitlab-ci-local 4.41.0 (newer ones need Node 22): the
# jobs with an image in its Docker executor, the serving-host jobs (build, deploy, analyse,
# promote: no image) in this machine's shell, as a shell runner on the serving host would. No
# image registry, no network in the job containers:
#   - recsys-ci:node20-offline (make-base-image.sh ci) stands in for node:20-bookworm and for the
#     tool's helper image firecow/gitlab-ci-local-util;
#   - npx's cache and pnpm's store are mounted from the host, offline, with the store named
#     (the build volume is another file system, where pnpm would otherwise make an empty store);
#   - the image is built from the offline base (RECSYS_BUILD_FLAGS=--offline);
#   - this checkout's branch counts as the default branch (gitlab-ci-local sets no CI_DEFAULT_BRANCH).
#
#   docker/gitlab-ci-local.sh train                      one job (checked: PASS in 40 s)
#   docker/gitlab-ci-local.sh --variable RECSYS_STATE_DIR=$PWD/runs/latest/platform \
#     --variable RECSYS_SKIP_TEST_SUITE=true              the whole pipeline, deploying into `pnpm start`
# Without RECSYS_STATE_DIR the pipeline ends after test (no platform to release into).
# Needs: a Docker engine, `npm install gitlab-ci-local@4.41.0` (GITLAB_CI_LOCAL, else on PATH), rsync,
# a checkout with an origin remote URL that looks like GitLab's (never contacted), the workspace
# installed on the host once (fills the store).
set -euo pipefail
cd "$(dirname "$0")/.."
# (Not GCL: the tool reads GCL_* variables as its options, and GCL itself as an empty one.)
gcl=${GITLAB_CI_LOCAL:-gitlab-ci-local}
docker image inspect recsys-ci:node20-offline >/dev/null 2>&1 || docker/make-base-image.sh ci >/dev/null
docker tag recsys-ci:node20-offline node:20-bookworm
docker tag recsys-ci:node20-offline firecow/gitlab-ci-local-util:latest
store=$(npx -y pnpm@12.4.2 store path)
# Job names first: the array options (--volume, --variable) would swallow them.
exec "$gcl" "$@" \
  --volume "$HOME/.npm:/root/.npm" \
  --volume "$(dirname "$(dirname "$store")"):/root/.local/share/pnpm" \
  --volume "$HOME/.cache/pnpm:/root/.cache/pnpm" \
  --variable npm_config_offline=true \
  --variable pnpm_config_store_dir=/root/.local/share/pnpm/store \
  --variable pnpm_config_fetch_retries=0 \
  --variable RECSYS_BUILD_FLAGS=--offline \
  --variable CI_DEFAULT_BRANCH="$(git rev-parse --abbrev-ref HEAD)"
