#!/usr/bin/env bash
# Installs the Debian 12 packages kvmprof needs to build, test and run.
# Idempotent: installs only what is missing; quiet when nothing is.
# The kernel-patch series has its own list: kernel-patches/deps.sh.
#
#   scripts/deps.sh --arch arm64   also what `make ARCH=arm64` needs on
#                                  another machine: Debian's cross compiler
#                                  and the arm64 (multiarch) builds of the
#                                  libraries kvmprofd and kvmprof link
set -euo pipefail

cross=
case "${1:-}" in
"") ;;
--arch)
	case "${2:-}" in
	arm64) [[ $(uname -m) == aarch64 ]] || cross=arm64 ;;
	x86) [[ $(uname -m) == x86_64 ]] || cross=amd64 ;;
	*) echo "deps: --arch arm64 or x86" >&2; exit 2 ;;
	esac ;;
*) echo "usage: $0 [--arch arm64|x86]" >&2; exit 2 ;;
esac

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

# Cross builds: the compiler, and the target's builds of the libraries the
# binaries link (Multi-Arch: same, so they install beside the machine's own).
if [[ -n $cross ]]; then
	case $cross in
	arm64) PKGS+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross) ;;
	amd64) PKGS+=(gcc-x86-64-linux-gnu libc6-dev-amd64-cross) ;;
	esac
	for p in libbpf-dev libelf-dev zlib1g-dev libcjson-dev libmicrohttpd-dev \
		libcurl4-openssl-dev libcap-ng-dev libsystemd-dev; do
		PKGS+=("$p:$cross")
	done
	if ! dpkg --print-foreign-architectures | grep -qx "$cross"; then
		[[ $(id -u) -eq 0 ]] || { echo "deps: run as root to add the $cross architecture" >&2; exit 1; }
		dpkg --add-architecture "$cross"
		echo "deps: added the $cross architecture to dpkg"
	fi
fi

# installed <pkg>[:<arch>]: a package without an architecture is the
# machine's own (or Architecture: all), also where another one is installed
installed() {
	local name=${1%%:*} arch=${1#*:}
	[[ $1 == *:* ]] || arch=$(dpkg --print-architecture)
	dpkg-query -W -f='${Status} ${Architecture}\n' "$name" 2>/dev/null |
		grep -Eq "^install ok installed ($arch|all)\$"
}

missing=()
for p in "${PKGS[@]}"; do
	[[ "$p" == \#* ]] && continue
	installed "$p" || missing+=("$p")
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
