#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches matrix
#
# The part of the build matrix that CI does not run (check runs the rest):
# full Images of the three series together (the worktree that qemu-test
# boots), each in a variant of the default configuration
# (config/qemu.config), in its own build directory under $CACHE/matrix/:
#
#   all Image-KVM=n      CONFIG_KVM off (and the KUnit suites that need it):
#                        the guest side (the async PF guest driver) and
#                        the SPE driver without KVM
#   all Image-SPE=m      CONFIG_MODULES, CONFIG_ARM_SPE_PMU=m: the SPE
#                        driver as a module that lends its SPU to a
#                        built-in KVM; Image and modules
#   all Image-16K        CONFIG_ARM64_16K_PAGES
#   all Image-64K        CONFIG_ARM64_64K_PAGES
#   all Image-clang      the default configuration built with LLVM=1
#                        (Debian's clang, ld.lld, llvm); check runs it too
#                        with KP_CLANG=1, in the same build directory
#                        ($CACHE/build-clang)
#
# One line per variant, "PASS all <config>" or "FAIL all <config> ...", as
# check prints them. MATRIX="KVM=n 16K" (make ... MATRIX=...) builds only
# those.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/steps.sh"

START=$(now)
WT=$CACHE/linux-image
DIR=$CACHE/matrix
LOGDIR=$DIR/logs

# name|symbols dropped from the fragment|lines added (\n-separated)|targets
VARIANTS=(
	"KVM=n|KVM KVM_ARM64_[A-Z0-9_]*KUNIT_TEST|# CONFIG_KVM is not set|Image"
	"SPE=m|ARM_SPE_PMU MODULES|CONFIG_MODULES=y\nCONFIG_ARM_SPE_PMU=m|Image modules"
	"16K|ARM64_4K_PAGES ARM64_16K_PAGES ARM64_64K_PAGES|CONFIG_ARM64_16K_PAGES=y|Image"
	"64K|ARM64_4K_PAGES ARM64_16K_PAGES ARM64_64K_PAGES|CONFIG_ARM64_64K_PAGES=y|Image"
	"clang|||Image"
)

prepare_base
mkdir -p "$LOGDIR"
rm -rf "${LOGDIR:?}"/*
apply_series "$WT"

# What each variant must show beyond building.
verify() {
	local name=$1 out=$2
	case $name in
	KVM=n)
		[ ! -e "$out/arch/arm64/kvm/built-in.a" ] ||
			die "KVM=n built arch/arm64/kvm/"
		if grep -q '^CONFIG_ARM64_KVM_ASYNC_PF=y' "$out/.config"; then
			[ -f "$out/arch/arm64/kernel/kvm_async_pf.o" ] ||
				die "KVM=n: the async PF guest driver was not built"
		fi
		;;
	SPE=m)
		[ -f "$out/drivers/perf/arm_spe_pmu.ko" ] ||
			die "SPE=m: drivers/perf/arm_spe_pmu.ko was not built"
		;;
	esac
}

variant() {
	local name=$1 drop=$2 add=$3 targets=$4 key out frag t0
	key=$(echo "$name" | tr '=' '-' | tr '[:upper:]' '[:lower:]')
	out=$DIR/build-$key
	frag=$DIR/$key.config
	t0=$(now)
	if [ "$name" = clang ]; then
		# check's directory (KP_CLANG=1): one build serves both
		image_clang "$WT" "$CACHE/build-clang"
		log "$name: built Image in $(($(now) - t0))s"
		return
	fi
	variant_fragment "$frag" "$drop" "$(printf '%b' "$add")"
	# shellcheck disable=SC2086
	image_variant "$WT" "$out" "$frag" $targets
	verify "$name" "$out"
	log "$name: built $targets in $(($(now) - t0))s"
}

for v in "${VARIANTS[@]}"; do
	IFS='|' read -r name drop add targets <<<"$v"
	if [ -n "${KP_MATRIX:-}" ] && ! [[ " $KP_MATRIX " == *" $name "* ]]; then
		continue
	fi
	step all "Image-$name" variant "$name" "$drop" "$add" "$targets"
done

npass=$(grep -c '^PASS' "$LOGDIR/results" 2>/dev/null || true)
if [ "$FAILED" != 0 ]; then
	grep '^FAIL' "$LOGDIR/results" >&2
	die "matrix FAILED (logs in $LOGDIR); $(($(now) - START))s"
fi
log "matrix PASSED: $npass configuration(s), base $BASE_PKG_VERSION; $(($(now) - START))s"
