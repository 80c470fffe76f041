# SPDX-License-Identifier: GPL-2.0-only
# The synthetic SPE stream generator (ground truth for tests and benches;
# the daemon's tests may link it too).
SPEGEN_SRCS := tools/spegen/spegen.c tools/spegen/corrupt.c

# spegen: synthetic streams with ground truth.
$(O)/spegen: $(call obj,tools/spegen/main.c $(SPEGEN_SRCS) $(SPE_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ZLIB_LIBS) -lm

BINS += $(O)/spegen
