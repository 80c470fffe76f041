# SPE decoder library.  Its generator is tools/spegen/build.mk's, its tests
# tests/spe/build.mk's, its bench bench/build.mk's, its fuzz target
# fuzz/build.mk's.

# The library, linked by the daemon, the CLI, the tests and the bench:
# SPE_SRCS needs no other library; SPE_IO_SRCS (symbols from ELF files,
# compressed input) needs $(SPE_IO_LIBS).
SPE_SRCS := lib/spe/pkt.c lib/spe/fields.c lib/spe/desc.c lib/spe/decode.c lib/spe/template.c lib/spe/fused.c \
	lib/spe/profile.c lib/spe/batch.c lib/spe/topk.c lib/spe/parallel.c lib/spe/pipe.c lib/spe/text.c lib/spe/symtab.c
SPE_IO_SRCS := lib/spe/symbols.c lib/spe/input.c lib/spe/pprof.c \
	lib/spe/spefile.c lib/spe/perfdata.c
SPE_IO_LIBS := $(ELF_LIBS) $(ZLIB_LIBS)
