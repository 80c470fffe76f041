# SPDX-License-Identifier: GPL-2.0-only
# kvmguest: test/demo VMM with an embedded x86-64 guest (see docs/kvmguest.md).
# The guest (guest.S) is assembled and linked at GUEST_CODE_GPA, flattened
# with objcopy and embedded into the VMM with .incbin (guest_blob.S).

KVMGUEST_SRCS := tools/kvmguest/kvmguest.c tools/kvmguest/vm.c \
	tools/kvmguest/vcpu.c tools/kvmguest/workload.c tools/kvmguest/run.c \
	tools/kvmguest/uffd.c
# Generated guest files (the binary itself is $(O)/tools/kvmguest).
KVMGUEST_OUT := $(O)/tools/kvmguest-obj
KVMGUEST_GUEST_GPA := $(shell sed -n 's/^\#define GUEST_CODE_GPA[[:space:]]*//p' \
	tools/kvmguest/guest_abi.h)

$(KVMGUEST_OUT)/guest.o: tools/kvmguest/guest.S tools/kvmguest/guest_abi.h
	$(call msg,AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -MMD -MP -Itools/kvmguest -c $< -o $@

$(KVMGUEST_OUT)/guest.elf: $(KVMGUEST_OUT)/guest.o
	$(call msg,LD,$@)
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,--build-id=none \
		-Wl,-Ttext=$(KVMGUEST_GUEST_GPA) -Wl,-e,guest_header $< -o $@

$(KVMGUEST_OUT)/guest.bin: $(KVMGUEST_OUT)/guest.elf
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O binary -j .text $< $@

$(KVMGUEST_OUT)/guest_blob.o: tools/kvmguest/guest_blob.S \
		$(KVMGUEST_OUT)/guest.bin
	$(call msg,AS,$@)
	$(Q)$(CC) -DGUEST_BIN='"$(KVMGUEST_OUT)/guest.bin"' -c $< -o $@

$(O)/tools/kvmguest: $(call obj,$(KVMGUEST_SRCS)) $(KVMGUEST_OUT)/guest_blob.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(CJSON_LIBS) -lpthread

# Its guest is x86-64 code: x86 builds only.
ifeq ($(ARCH),x86)
BINS += $(O)/tools/kvmguest
endif
