// SPDX-License-Identifier: GPL-2.0-only
/* kvmguest --uffd: placeholder until the userfaultfd backing lands. */
#include <errno.h>
#include <stdio.h>

#include "uffd.h"
#include "vm.h"

int kg_uffd_start(struct kg_vm *vm)
{
	snprintf(vm->err, sizeof(vm->err), "--uffd is not implemented yet");
	return -ENOTSUP;
}

int kg_uffd_run(struct kg_vm *vm)
{
	return 0;
}

int kg_uffd_poll(struct kg_vm *vm, bool *busy)
{
	return 0;
}

void kg_uffd_stop(struct kg_vm *vm)
{
}

void kg_uffd_close(struct kg_vm *vm)
{
}
