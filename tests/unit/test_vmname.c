// SPDX-License-Identifier: GPL-2.0-only
/* VMM and VM-name recognition from argv/comm/cgroup, as real VMMs run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kvmprof/util.h>
#include <kvmprof/vmname.h>

#define ARGC(a) ((int)ARRAY_SIZE(a))

static void check(int argc, char *const argv[], const char *comm,
		  const char *cgroup, const char *vmm, const char *name)
{
	struct kp_vm_ident id;

	kp_vm_identify(argc, argv, comm, cgroup, &id);
	assert_string_equal(id.vmm, vmm);
	assert_string_equal(id.name, name);
}

static void qemu_guest_equals(void **state)
{
	char *argv[] = { "/usr/bin/qemu-system-x86_64", "-machine", "q35",
			 "-name", "guest=web-1,debug-threads=on", "-m", "1G" };
	struct kp_vm_ident id;

	check(ARGC(argv), argv, "qemu-system-x86", NULL, "qemu", "web-1");
	kp_vm_identify(ARGC(argv), argv, "qemu-system-x86", NULL, &id);
	assert_string_equal(id.uuid, "");
}

static void qemu_plain_and_escaped_comma(void **state)
{
	char *a1[] = { "qemu-system-aarch64", "-name", "db0" };
	char *a2[] = { "qemu-system-aarch64", "-name", "a,,b,process=qq" };
	char *a3[] = { "qemu-kvm", "--name=vm9", "-uuid",
		       "3b1e4c8a-0000-4000-8000-000000000001" };
	char *a4[] = { "qemu-system-x86_64", "-name",
		       "debug-threads=on,guest=late" };
	struct kp_vm_ident id;

	check(ARGC(a1), a1, "qemu-system-aar", NULL, "qemu", "db0");
	check(ARGC(a2), a2, "qemu-system-aar", NULL, "qemu", "a,b");
	check(ARGC(a3), a3, "qemu-kvm", NULL, "qemu", "vm9");
	kp_vm_identify(ARGC(a3), a3, "qemu-kvm", NULL, &id);
	assert_string_equal(id.uuid, "3b1e4c8a-0000-4000-8000-000000000001");
	check(ARGC(a4), a4, "qemu-system-x86", NULL, "qemu", "late");
}

static void libvirt_scope(void **state)
{
	/* libvirt sanitises the scope name ('.' and '_' dropped, 64-char
	 * cap): QEMU's own -name wins, the scope name is kept beside it */
	char *argv[] = { "/usr/bin/qemu-system-x86_64", "-name",
			 "guest=my_vm.prod,debug-threads=on" };
	char *bare[] = { "/usr/bin/qemu-system-x86_64", "-m", "1G" };
	const char *cg =
		"0::/machine.slice/machine-qemu\\x2d7\\x2dmyvmprod.scope/libvirt/emulator\n";
	char *k[] = { "lkvm", "run" };
	struct kp_vm_ident id;

	check(ARGC(argv), argv, "qemu-system-x86", cg, "qemu", "my_vm.prod");
	kp_vm_identify(ARGC(argv), argv, "qemu-system-x86", cg, &id);
	assert_string_equal(id.scope_name, "myvmprod");
	/* no -name: the scope name is the best there is */
	check(ARGC(bare), bare, "qemu-system-x86", cg, "qemu", "myvmprod");
	/* another VMM in a machine scope */
	check(ARGC(k), k, "lkvm", cg, "qemu", "myvmprod");
	/* not in a scope: no scope name */
	kp_vm_identify(ARGC(argv), argv, "qemu-system-x86", NULL, &id);
	assert_string_equal(id.scope_name, "");
}

static void kvmtool_firecracker_ch_crosvm(void **state)
{
	char *k[] = { "lkvm", "run", "-k", "bzImage", "--name", "tool1" };
	char *f[] = { "/usr/local/bin/firecracker", "--api-sock",
		      "/tmp/fc.sock", "--id", "fc-42" };
	char *c[] = { "cloud-hypervisor", "--api-socket",
		      "path=/run/ch/vm7.sock", "--kernel", "vmlinux" };
	char *x[] = { "crosvm", "run", "--socket", "/run/crosvm/gw.sock" };

	check(ARGC(k), k, "lkvm", NULL, "kvmtool", "tool1");
	check(ARGC(f), f, "firecracker", NULL, "firecracker", "fc-42");
	check(ARGC(c), c, "cloud-hypervis", NULL, "cloud-hypervisor", "vm7");
	check(ARGC(x), x, "crosvm", NULL, "crosvm", "gw");
}

static void kvmguest_and_fallback(void **state)
{
	char *g[] = { "./build/tools/kvmguest", "--vcpus", "2", "--name",
		      "e2e" };
	char *u[] = { "/opt/myvmm", "-c", "cfg" };
	char *none[] = { "qemu-system-x86_64", "-m", "1G" };

	check(ARGC(g), g, "kvmguest", NULL, "kvmguest", "e2e");
	check(ARGC(u), u, "myvmm", NULL, "unknown", "myvmm");
	/* QEMU without -name: the comm is all we have */
	check(ARGC(none), none, "qemu-system-x86", NULL, "qemu",
	      "qemu-system-x86");
	/* an option at the end without value is not a name */
	char *dangling[] = { "lkvm", "run", "--name" };

	check(ARGC(dangling), dangling, "lkvm", NULL, "kvmtool", "lkvm");
}

static void long_names_truncate(void **state)
{
	char longname[200];
	char *argv[] = { "lkvm", "--name", longname };
	struct kp_vm_ident id;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	kp_vm_identify(ARGC(argv), argv, "lkvm", NULL, &id);
	assert_int_equal(strlen(id.name), KP_NAME_MAX - 1);
}

static void split_cmdline(void **state)
{
	char buf[] = "qemu\0-name\0x y\0";	/* as /proc/PID/cmdline */
	char *argv[8];

	assert_int_equal(kp_split_cmdline(buf, sizeof(buf) - 1, argv, 8), 3);
	assert_string_equal(argv[2], "x y");
	assert_int_equal(kp_split_cmdline(buf, sizeof(buf) - 1, argv, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_guest_equals),
		cmocka_unit_test(qemu_plain_and_escaped_comma),
		cmocka_unit_test(libvirt_scope),
		cmocka_unit_test(kvmtool_firecracker_ch_crosvm),
		cmocka_unit_test(kvmguest_and_fallback),
		cmocka_unit_test(long_names_truncate),
		cmocka_unit_test(split_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
