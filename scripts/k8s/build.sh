#!/usr/bin/env bash
# Builds the official kube-apiserver, kube-controller-manager and kube-proxy (and etcd when
# Debian's is too old) from the Go modules pinned in this folder, into a cache outside the repo:
#   ${DPBENCH_CACHE:-/var/cache/dpbench}/k8s/<k8s version>/bin/
# CI runs in a fresh clone on the same machine, so the cache lives outside the clone and a
# rebuild happens only when the pinned version changes.
#
# Prints the bin directory on stdout (last line); progress goes to stderr.
# Env: DPBENCH_CACHE (cache root), DPBENCH_K8S_FORCE=1 (rebuild even if cached).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/local/go/bin"
# The pinned go.mod says `go 1.26.0`; a newer local toolchain is fine, an older one may fetch.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

command -v go >/dev/null || { echo "build.sh: go is not installed (expected /usr/local/go/bin/go)" >&2; exit 3; }

k8s_version="$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/go.mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3" && $2=="v" {print $3}' "$here/etcd/go.mod" 2>/dev/null || true)"
[ -n "$k8s_version" ] || { echo "build.sh: cannot read the k8s.io/kubernetes version from go.mod" >&2; exit 4; }

cache_root="${DPBENCH_CACHE:-/var/cache/dpbench}"
bin="$cache_root/k8s/$k8s_version/bin"
components=(kube-apiserver kube-controller-manager kube-proxy)

have_all() {
  for c in "${components[@]}"; do [ -x "$bin/$c" ] || return 1; done
  if [ -f "$here/etcd/go.mod" ]; then [ -x "$bin/etcd" ] || return 1; fi
  [ -f "$bin/.complete" ]
}

if [ "${DPBENCH_K8S_FORCE:-0}" != 1 ] && have_all; then
  echo "build.sh: cached $k8s_version in $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$cache_root/k8s/$k8s_version"
# Build into a scratch dir and rename at the end, so an interrupted build never looks cached.
stage="$(mktemp -d "$cache_root/k8s/$k8s_version/.stage.XXXXXX")"
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT

# The same stamps the Kubernetes release build sets (hack/lib/version.sh); without them the
# binaries report v0.0.0-master and the apiserver's emulation-version checks misbehave.
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

start=$(date +%s)
cd "$here"
for c in "${components[@]}"; do
  echo "build.sh: building $c $k8s_version" >&2
  CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$stage/$c" "k8s.io/kubernetes/cmd/$c"
done
if [ -f "$here/etcd/go.mod" ]; then
  echo "build.sh: building etcd $etcd_version" >&2
  (cd "$here/etcd" && CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "-s -w" -o "$stage/etcd" .)
fi
end=$(date +%s)

{
  echo "k8s=$k8s_version"
  [ -n "$etcd_version" ] && echo "etcd=$etcd_version"
  echo "go=$(go env GOVERSION)"
  echo "build_seconds=$((end - start))"
} > "$stage/.complete"

rm -rf "$bin"
mv "$stage" "$bin"
trap - EXIT
echo "build.sh: built $k8s_version in $((end - start))s into $bin" >&2
echo "$bin"
