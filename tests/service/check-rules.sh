#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The shipped Prometheus rules: syntax (promtool check rules) and behaviour
# (promtool test rules on synthetic series: each alert fires when it should
# and only then; recording rules give exact values).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
command -v promtool >/dev/null ||
	{ echo "check-rules: SKIP: promtool missing (Debian package prometheus)" >&2; exit 77; }
cd "$here/dist/prometheus" || exit 1
promtool check rules kvmprof-rules.yml || exit 1
promtool test rules kvmprof-rules.test.yml || exit 1
# every alert of the rules file is exercised by the rule tests
for a in $(grep -oE 'alert: [A-Za-z]+' kvmprof-rules.yml | awk '{ print $2 }'); do
	grep -q "alertname: $a\$" kvmprof-rules.test.yml ||
		{ echo "check-rules: alert $a has no test" >&2; exit 1; }
done
echo "check-rules: rules valid and tested"
