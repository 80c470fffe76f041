// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit reason names against the architectures' own tables: Intel SDM
 * appendix C (VMX basic exit reasons), AMD APM vol. 2 appendix C (SVM exit
 * codes), Arm ARM ESR_EL2.EC and arm64 KVM's exception types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <kvmprof/abi.h>
#include <kvmprof/kvmnames.h>

/* The same code is a different exit on Intel and on AMD. */
static void test_x86_vmx_and_svm(void **state)
{
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86, 0x18),
			    "VMRESUME");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						KP_X86_SVM | 0x18),
			    "WRITE_CR8");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86, 12),
			    "HLT");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						KP_X86_SVM | 0x78),
			    "HLT");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						KP_X86_SVM | 0x7b),
			    "IOIO");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						KP_X86_SVM | 0x400),
			    "NPF");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						KP_X86_SVM | 0xffff),
			    "INVALID");
	/* VMX: bit 31 (entry failure) does not change the basic reason */
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_X86,
						0x80000000u | 33),
			    "INVALID_STATE");
	assert_null(kp_exit_reason_name(KP_EXIT_LAYOUT_X86, KP_X86_SVM | 0x3ff));
}

static void test_arm64_traps_and_other_exits(void **state)
{
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_ARM64, 0x24),
			    "DABT_LOW");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_ARM64, 0x16),
			    "HVC64");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_ARM64,
						KP_ARM64_NOT_TRAP | 0),
			    "IRQ");
	assert_string_equal(kp_exit_reason_name(KP_EXIT_LAYOUT_ARM64,
						KP_ARM64_NOT_TRAP | 1),
			    "SERROR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_vmx_and_svm),
		cmocka_unit_test(test_arm64_traps_and_other_exits),
	};

	return cmocka_run_group_tests_name("kvmnames", tests, NULL, NULL);
}
