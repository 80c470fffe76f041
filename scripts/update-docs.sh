#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Writes what is generated from kvmprofd's configuration keys
# (daemon/config_keys.c): dist/kvmprofd.conf, and the KEYS entries of
# docs/man/kvmprofd.conf.5 (between its "Generated" and "End of the
# generated KEYS" comment lines).  `make update-docs` runs it;
# with --check it changes nothing and fails if a committed file is stale
# (tests/service/check-docs.sh).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
[[ $O = /* ]] || O=$here/$O
KVMPROFD=$O/kvmprofd
check=0
[[ ${1:-} = --check ]] && check=1
[[ -x $KVMPROFD ]] || { echo "update-docs: $KVMPROFD not built" >&2; exit 1; }

conf=$here/dist/kvmprofd.conf
man=$here/docs/man/kvmprofd.conf.5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$KVMPROFD" --print-config=default-file >"$tmp/conf"
"$KVMPROFD" --print-config=man-keys >"$tmp/keys"
begin=$(head -n1 "$tmp/keys")
end=$(tail -n1 "$tmp/keys")
[[ $(grep -cxF -- "$begin" "$man") = 1 && $(grep -cxF -- "$end" "$man") = 1 ]] || {
	echo "update-docs: $man: the marker lines of the generated KEYS are missing" >&2
	exit 1
}
B=$begin E=$end K=$tmp/keys awk '
	BEGIN { b = ENVIRON["B"]; e = ENVIRON["E"]; keys = ENVIRON["K"] }
	$0 == b { while ((getline l < keys) > 0) print l; skip = 1; next }
	$0 == e { skip = 0; next }
	!skip' "$man" >"$tmp/man"

stale=0
for pair in "conf:$conf" "man:$man"; do
	gen=$tmp/${pair%%:*} file=${pair#*:}
	if cmp -s "$gen" "$file"; then
		continue
	fi
	if ((check)); then
		echo "update-docs: ${file#"$here"/} is stale (run make update-docs):" >&2
		diff -u "$file" "$gen" | sed 's/^/    /' >&2 || true
		stale=1
	else
		cp "$gen" "$file"
		echo "  updated  ${file#"$here"/}"
	fi
done
if ((check)); then
	((stale)) && exit 1
	echo "ok: dist/kvmprofd.conf and kvmprofd.conf(5) KEYS are as generated"
fi
exit 0
