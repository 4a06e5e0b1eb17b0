#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine, as root: system packages, then the npm dependencies
# (whose `prepare` step builds dist/ so `npx dpbench` works). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  iproute2 iptables nftables ipset ipvsadm conntrack util-linux procps curl   # lab topology and datapaths
  clang llvm libbpf-dev bpftool                                    # eBPF datapath (compiled from src/targets/lab/bpf)
  nginx-light                                                      # echo backends in the server pods
  etcd-server etcd-client fio e2fsprogs                            # disk probe, the real etcd, its tests
  wrk time openssl ca-certificates                                 # bench/ reference tools; control-plane certs
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian starts nginx and etcd as services on install; the lab runs its own, so stop the
# system ones (the packages are only wanted for their binaries).
for svc in nginx etcd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run build --silent
fi
