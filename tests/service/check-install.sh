#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a DESTDIR: every file in place, the unit points at the
# installed binary and configuration and passes `systemd-analyze verify`,
# its exposure (`systemd-analyze security`) is at most 2.5, the man pages
# render without warnings, the completions parse.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
[[ $O = /* ]] || O=$here/$O
dest=$(mktemp -d /tmp/kvmprof-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$here" O="$O" install DESTDIR="$dest" PREFIX=/usr >/dev/null ||
	fail "make install failed"
for f in usr/sbin/kvmprofd usr/bin/kvmprof usr/lib/kvmprof/kvmprof-client.so \
	usr/lib/systemd/system/kvmprofd.service \
	usr/lib/sysusers.d/kvmprof.conf etc/kvmprof/kvmprofd.conf \
	usr/share/man/man1/kvmprof.1 usr/share/man/man5/kvmprofd.conf.5 \
	usr/share/man/man8/kvmprofd.8 usr/share/bash-completion/completions/kvmprof \
	usr/share/bash-completion/completions/kvmprofd \
	usr/share/kvmprof/grafana/kvmprof-dashboard.json \
	usr/share/kvmprof/prometheus/kvmprof-rules.yml \
	usr/share/kvmprof/prometheus/prometheus-scrape.yml; do
	[[ -f $dest/$f ]] || fail "$f not installed"
done
[[ -x $dest/usr/sbin/kvmprofd && -x $dest/usr/bin/kvmprof ]] || fail "binaries not executable"
# the installed kvmprof loads its API transport from ../lib/kvmprof at the
# first request (the plugin's own error for a missing socket says so), and
# only then: an offline command does not load libcurl
kp=$dest/usr/bin/kvmprof
out=$("$kp" --socket "$dest/none.sock" vms 2>&1) && fail "vms without a daemon succeeded"
[[ $out == *"kvmprofd is not running"* ]] || fail "installed kvmprof, no daemon: $out"
LD_DEBUG=libs "$kp" --socket "$dest/none.sock" vms 2>&1 | grep -q 'calling init: .*/libcurl\.so' ||
	fail "the API request did not load libcurl"
LD_DEBUG=libs "$kp" --version 2>&1 | grep -q 'libcurl' && fail "kvmprof --version loads libcurl"
mv "$dest/usr/lib/kvmprof/kvmprof-client.so" "$dest/client.so"
out=$("$kp" --socket "$dest/none.sock" vms 2>&1) && fail "vms without the transport succeeded"
[[ $out == *"cannot load kvmprof's API client"*"lib/kvmprof"* ]] ||
	fail "installed kvmprof, no transport: $out"
mv "$dest/client.so" "$dest/usr/lib/kvmprof/kvmprof-client.so"
unit=$dest/usr/lib/systemd/system/kvmprofd.service
grep -qx 'ExecStart=/usr/sbin/kvmprofd --config /etc/kvmprof/kvmprofd.conf' "$unit" ||
	fail "ExecStart does not name the installed paths"
grep -qE '@[A-Z]+@' "$unit" && fail "unsubstituted @VAR@ in the unit"
# a second install keeps an edited configuration
echo "grace-ms = 1234" >>"$dest/etc/kvmprof/kvmprofd.conf"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$here" O="$O" install DESTDIR="$dest" PREFIX=/usr >/dev/null
grep -q 'grace-ms = 1234' "$dest/etc/kvmprof/kvmprofd.conf" || fail "configuration overwritten"
[[ -f $dest/etc/kvmprof/kvmprofd.conf.dist ]] || fail "no kvmprofd.conf.dist"
# the installed configuration is accepted by the daemon
"$dest/usr/sbin/kvmprofd" --config "$dest/etc/kvmprof/kvmprofd.conf" --print-config |
	grep -qx 'grace-ms = 1234' || fail "kvmprofd rejects the shipped configuration"

if command -v systemd-analyze >/dev/null; then
	# verify a copy naming the binary where it was installed
	sed "s|/usr/sbin/kvmprofd|$dest/usr/sbin/kvmprofd|" "$unit" >"$dest/kvmprofd.service"
	MANPATH=$dest/usr/share/man systemd-analyze verify "$dest/kvmprofd.service" ||
		fail "systemd-analyze verify failed"
	# and that it would notice a broken unit
	sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/kvmprofd|' "$dest/kvmprofd.service" >"$dest/broken.service"
	MANPATH=$dest/usr/share/man systemd-analyze verify "$dest/broken.service" \
		>/dev/null 2>&1 && fail "systemd-analyze verify accepts a broken unit"
	sec=$(systemd-analyze security --offline=true "$unit" 2>&1 | tail -1)
	echo "$sec"
	x=$(echo "$sec" | grep -oE 'level for kvmprofd.service: [0-9.]+' | awk '{ print $NF }')
	[[ -n $x ]] || fail "no exposure figure: $sec"
	awk -v x="$x" 'BEGIN { exit !(x <= 2.5) }' || fail "exposure $x > 2.5"
else
	echo "check-install: systemd-analyze missing: unit checks not run" >&2
fi
for m in "$dest"/usr/share/man/man*/*; do
	w=$(LC_ALL=C groff -ww -z -t -man "$m" 2>&1)
	[[ -z $w ]] || fail "groff warnings in $m: $w"
done
for c in "$dest"/usr/share/bash-completion/completions/*; do
	bash -n "$c" || fail "$c does not parse"
done
jq empty "$dest/usr/share/kvmprof/grafana/kvmprof-dashboard.json" ||
	fail "the dashboard is not JSON"
echo "check-install: installed tree complete, unit verified"
