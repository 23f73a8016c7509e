#!/usr/bin/env bash
# Builds the `recsys` image, tagged recsys:<commit> and recsys:latest (RECSYS_IMAGE_NAME renames
# both, e.g. for a CI run that must not move another checkout's recsys:latest).
#
#   docker/build-image.sh             base node:20-bookworm-slim (needs an image registry)
#   docker/build-image.sh --offline   base made here from the host's node (docker/make-base-image.sh)
#
# The production dependencies come from the host's pnpm store (`pnpm deploy --prod`), so the
# build itself needs no network: nothing is installed inside `docker build`.
set -euo pipefail
cd "$(dirname "$0")/.."

base=${BASE_IMAGE:-node:20-bookworm-slim}
if [ "${1:-}" = "--offline" ]; then
  base=${BASE_IMAGE:-recsys-base:node20-offline}
  docker image inspect "$base" >/dev/null 2>&1 || docker/make-base-image.sh node "$base" >/dev/null
elif [ -n "${1:-}" ]; then
  echo "build-image: unknown flag '$1'; use --offline or nothing" >&2; exit 2
fi

commit=${RECSYS_GIT_COMMIT:-$(git rev-parse HEAD)}
name=${RECSYS_IMAGE_NAME:-recsys}
version=$(node -p 'require("./packages/cli/package.json").version')
# The build stage is only a step: its image would stay as a 400 MB dangling copy (vfs).
cleanup() { docker image prune -f --filter label=org.recsys.stage=build >/dev/null; rm -rf docker/.build; }
trap cleanup EXIT
rm -rf docker/.build
npx -y pnpm@12.4.2 --filter @recsys/cli deploy --prod --prefer-offline docker/.build/app >&2

docker build -f docker/Dockerfile \
  --build-arg BASE_IMAGE="$base" \
  --build-arg RECSYS_GIT_COMMIT="$commit" \
  --build-arg RECSYS_VERSION="$version" \
  -t "$name:$commit" -t "$name:latest" . >&2
echo "$name:$commit"
