# BPF objects and skeletons.  One CO-RE object per program set; it builds
# for the target ARCH (x86, arm64) from the same source.
BPF_ARCH := $(ARCH)
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
	-Ibpf -Iinclude -I/usr/include/$(MULTIARCH)

BPF_SRCS := bpf/kvmprof.bpf.c
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/$(BPF_ARCH)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(O)/gen/%.skel.h,$(BPF_SRCS))

$(O)/bpf/$(BPF_ARCH)/%.tmp.o: bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(O)/bpf/$(BPF_ARCH)/%.bpf.o: $(O)/bpf/$(BPF_ARCH)/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(O)/gen/%.skel.h: $(O)/bpf/$(ARCH)/%.bpf.o bpf/build.mk
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

.PHONY: bpf
bpf: $(BPF_OBJS)
.SECONDARY:
