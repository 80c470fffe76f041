// SPDX-License-Identifier: GPL-2.0-only
/*
 * l2kexec: the kexec that qemu-test's Linux guest (L2) does, in the two
 * system calls it takes (busybox has no kexec applet):
 *
 *   l2kexec load IMAGE INITRD CMDLINE
 *	kexec_file_load(2) of IMAGE with INITRD and CMDLINE (the kernel builds
 *	the next device tree from the running one)
 *   l2kexec exec
 *	reboot(LINUX_REBOOT_CMD_KEXEC): kernel_kexec(), which runs the reboot
 *	notifiers, shuts the machine down and starts the loaded kernel
 *
 * Exit status 1 and a message on stderr when a call fails; "exec" does not
 * return when it succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/reboot.h>

static int load(const char *image, const char *initrd, const char *cmdline)
{
	int kfd, ifd;

	kfd = open(image, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		fprintf(stderr, "l2kexec: %s: %s\n", image, strerror(errno));
		return 1;
	}
	ifd = open(initrd, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		fprintf(stderr, "l2kexec: %s: %s\n", initrd, strerror(errno));
		return 1;
	}
	/* the length counts the terminating NUL */
	if (syscall(__NR_kexec_file_load, kfd, ifd, strlen(cmdline) + 1,
		    cmdline, 0UL)) {
		fprintf(stderr, "l2kexec: kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "load"))
		return load(argv[2], argv[3], argv[4]);
	if (argc == 2 && !strcmp(argv[1], "exec")) {
		syscall(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			LINUX_REBOOT_CMD_KEXEC, NULL);
		fprintf(stderr, "l2kexec: reboot(LINUX_REBOOT_CMD_KEXEC): %s\n",
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "usage: l2kexec load IMAGE INITRD CMDLINE | l2kexec exec\n");
	return 2;
}
