#!/usr/bin/env bash
# Extracts perf's Arm SPE decoder (tools/perf/util/arm-spe-decoder/) from
# Debian's linux-source-6.12 into DIR, for the benchmark only (never
# committed). The tarball: $KP_PERF_TARBALL, /usr/src/linux-source-6.12.tar.xz,
# the kernel-patches cache (/var/cache/kvmprof-kernel), or else the
# package is downloaded with apt-get into that cache and unpacked there.
#
#   bench/spe/perf-src.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
cache=${KP_CACHE:-/var/cache/kvmprof-kernel}
member=tools/perf/util/arm-spe-decoder
files=(arm-spe-decoder.c arm-spe-decoder.h arm-spe-pkt-decoder.c
       arm-spe-pkt-decoder.h)

[[ -f "$dir/arm-spe-decoder/arm-spe-decoder.c" ]] && exit 0
tarball=${KP_PERF_TARBALL:-}
if [[ -z "$tarball" ]]; then
	for t in /usr/src/linux-source-6.12.tar.xz \
		 "$cache"/base/*/usr/src/linux-source-6.12.tar.xz; do
		[[ -f "$t" ]] && { tarball=$t; break; }
	done
fi
if [[ -z "$tarball" ]]; then
	mkdir -p "$cache/deb" && cd "$cache/deb"
	apt-get download -q linux-source-6.12 >&2
	deb=$(ls -t linux-source-6.12_*.deb | head -n1)
	ver=${deb#linux-source-6.12_}; ver=${ver%_all.deb}; ver=${ver//%7e/\~}
	mkdir -p "$cache/base/$ver"
	dpkg -x "$deb" "$cache/base/$ver"
	tarball="$cache/base/$ver/usr/src/linux-source-6.12.tar.xz"
	cd - >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" --wildcards "*/$member/*.[ch]"
mkdir -p "$dir/arm-spe-decoder"
for f in "${files[@]}"; do
	cp "$tmp"/*/"$member/$f" "$dir/arm-spe-decoder/$f"
done
