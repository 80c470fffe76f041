#!/usr/bin/env bash
# Installs the Debian 12 packages kvmprof needs to build, test and run.
# Idempotent: installs only what is missing; quiet when nothing is.
# The kernel-patch series has its own list: kernel-patches/deps.sh.
set -euo pipefail

PKGS=(
	make gcc pkg-config		# build
	clang llvm			# BPF objects (clang -target bpf), libFuzzer
	bpftool libbpf-dev libelf-dev zlib1g-dev
	libcjson-dev			# JSON (daemon, CLI, tests)
	libmicrohttpd-dev		# HTTP server on the Unix socket
	libcurl4-openssl-dev		# HTTP client (CLI, tests)
	libcap-ng-dev			# privilege drop
	libcmocka-dev			# unit and end-to-end test framework
	linux-perf jq curl		# benchmark baseline, bench/test scripts
)
# Extra packages components declare (one per line) in deps/*.txt
shopt -s nullglob
here=$(cd "$(dirname "$0")/.." && pwd)
for f in "$here"/deps/*.txt; do
	while read -r p _; do
		[[ -z "$p" || "$p" == \#* ]] || PKGS+=("$p")
	done <"$f"
done

missing=()
for p in "${PKGS[@]}"; do
	[[ "$p" == \#* ]] && continue
	# one line per installed architecture (a foreign one may be there too)
	st=$(dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null || true)
	grep -qx "install ok installed" <<<"$st" || missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run as root (sudo $0) to install them" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
