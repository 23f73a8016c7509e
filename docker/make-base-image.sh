#!/usr/bin/env bash
# Makes a base image without an image registry: a root file system holding this host's
# programs and every shared library `ldd` names for them, imported with `docker import`.
# Users with a registry never need this (the Dockerfile's default base is node:20-bookworm-slim).
#
#   docker/make-base-image.sh node  [TAG]   node, bash, coreutils, git, tar, rsync  (recsys-base:node20-offline)
#   docker/make-base-image.sh ci    [TAG]   node's image plus npm/npx, for CI jobs  (recsys-ci:node20-offline)
#   docker/make-base-image.sh nginx [TAG]   Debian's nginx with its config dirs     (recsys-nginx:offline)
#   docker/make-base-image.sh prometheus [TAG]  Debian's prometheus and its web assets   (recsys-prometheus:offline)
set -euo pipefail

kind=${1:-node}
case "$kind" in
  node)  tag=${2:-recsys-base:node20-offline} ;;
  ci)    tag=${2:-recsys-ci:node20-offline} ;;
  nginx) tag=${2:-recsys-nginx:offline} ;;
  prometheus) tag=${2:-recsys-prometheus:offline} ;;
  *) echo "make-base-image: unknown kind '$kind'; use 'node', 'ci', 'nginx' or 'prometheus'" >&2; exit 2 ;;
esac

need() { command -v "$1" >/dev/null || { echo "make-base-image: '$1' not found on this host; $2" >&2; exit 2; }; }
need docker "install docker.io and start dockerd"
need ldd "install libc-bin"

rootfs=$(mktemp -d /tmp/recsys-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
chmod 755 "$rootfs" # mktemp makes it 0700: the image's / must be traversable by its non-root user

# Copies a file (following symlinks) to the same path under the rootfs.
put() { mkdir -p "$rootfs$(dirname "$1")"; cp -L "$1" "$rootfs$1"; }
# Copies a program and every library ldd names for it (and the dynamic loader).
put_program() {
  local bin; bin=$(type -P "$1") || { echo "make-base-image: '$1' not found on this host" >&2; exit 2; }
  bin=$(readlink -f "$bin")
  put "$bin"
  mkdir -p "$rootfs/usr/bin"
  [ -e "$rootfs/usr/bin/$1" ] || ln -s "$bin" "$rootfs/usr/bin/$1"
  ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do [ -e "$rootfs$lib" ] || put "$lib"; done
}

mkdir -p "$rootfs"/{etc,tmp,root,var/tmp,usr/bin,usr/lib,usr/lib64,run}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
# Debian's usrmerge layout: /bin and /lib point into /usr.
ln -s usr/bin "$rootfs/bin"; ln -s usr/lib "$rootfs/lib"; ln -s usr/lib64 "$rootfs/lib64"; ln -s usr/bin "$rootfs/sbin"
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
for f in /etc/ssl/certs/ca-certificates.crt; do [ -e "$f" ] && put "$f"; done

common="bash sh uname cat chmod chown mkdir cp mv rm ln ls test env sleep id head tail sort wc tr date touch dirname basename readlink grep sed"
for p in $common; do put_program "$p"; done

case "$kind" in
  node|ci)
    for p in node git tar gzip rsync; do put_program "$p"; done
    # git runs helpers from its exec dir (git-remote-*, etc.); the core ones are enough.
    gitexec=$(git --exec-path); mkdir -p "$rootfs$gitexec"
    cp -a "$gitexec/git" "$rootfs$gitexec/" 2>/dev/null || true
    printf 'recsys:x:10001:10001:recsys:/home/recsys:/bin/bash\n' >> "$rootfs/etc/passwd"
    printf 'recsys:x:10001:\n' >> "$rootfs/etc/group"
    mkdir -p "$rootfs/home/recsys"; chown 10001:10001 "$rootfs/home/recsys"
    if [ "$kind" = ci ]; then
      # CI jobs call `npx -y pnpm@...`: npm is a directory of JavaScript beside node.
      npm_dir=$(dirname "$(dirname "$(readlink -f "$(type -P npm)")")")
      mkdir -p "$rootfs$npm_dir"; cp -a "$npm_dir/." "$rootfs$npm_dir/"
      ln -sf "$npm_dir/bin/npm-cli.js" "$rootfs/usr/bin/npm"; ln -sf "$npm_dir/bin/npx-cli.js" "$rootfs/usr/bin/npx"
      # pnpm 10+ ships as a single executable that also wants librt, libdl and libpthread.
      for lib in librt.so.1 libdl.so.2 libpthread.so.0 libm.so.6 libgcc_s.so.1; do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|64bit/ { print $NF; exit }')
        [ -n "$path" ] && [ ! -e "$rootfs$path" ] && put "$path"
      done
    fi
    ;;
  nginx)
    need nginx "apt-get install -y nginx"
    put_program nginx
    cp -a /etc/nginx "$rootfs/etc/nginx"
    rm -f "$rootfs/etc/nginx/sites-enabled/"*
    mkdir -p "$rootfs/usr/share/nginx" "$rootfs/var/log/nginx" "$rootfs/var/lib/nginx" "$rootfs/run"
    [ -d /usr/share/nginx/modules ] && cp -a /usr/share/nginx/modules "$rootfs/usr/share/nginx/" || true
    [ -d /usr/lib/nginx ] && cp -a /usr/lib/nginx "$rootfs/usr/lib/" || true
    printf 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' >> "$rootfs/etc/passwd"
    printf 'www-data:x:33:\n' >> "$rootfs/etc/group"
    ;;
  prometheus)
    need prometheus "apt-get install -y prometheus"
    put_program prometheus
    cp -a /etc/prometheus "$rootfs/etc/prometheus"
    [ -d /usr/share/prometheus ] && { mkdir -p "$rootfs/usr/share"; cp -a /usr/share/prometheus "$rootfs/usr/share/"; } || true
    # The TSDB lives here; the container runs as nobody, as the official image does.
    mkdir -p "$rootfs/prometheus"; chown 65534:65534 "$rootfs/prometheus"
    ;;
esac

tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --message "recsys offline base ($kind) from $(hostname)" - "$tag" >/dev/null
echo "$tag"
