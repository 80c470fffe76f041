// SPDX-License-Identifier: GPL-2.0-only
/*
 * spegen: writes a synthetic SPE stream and its ground truth.
 *
 *   spegen -o OUT [-n RECORDS] [-s SEED] [-p PCS] [-l n1|var|mixed]
 *          [-z gzip|zlib] [-t TRUTH.csv] [-c DAMAGE [-f FATE.csv]]
 *          [-S SPLITS [-m MAX]]
 *
 * PCS is the number of distinct PCs (default 4096).  TRUTH.csv is what
 * `kvmprof spe records --csv OUT` prints for an undamaged stream.  With
 * -c, DAMAGE random flips, insertions and deletions are applied and
 * FATE.csv tells, per truth record, its offset in the damaged stream and
 * whether the damage touched it.  SPLITS lists
 * random cut points (1..MAX bytes apart) for feeding the stream in chunks.
 * Files are written under a temporary name and renamed when complete.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <kvmprof/spe_profile.h>

#include "spegen.h"

#define NREC_MAX	(1u << 28)

struct outfile {
	char tmp[4096];
	const char *path;
	FILE *f;
};

static FILE *out_open(struct outfile *o, const char *path)
{
	o->path = path;
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp", path);
	o->f = fopen(o->tmp, "w");
	if (!o->f)
		fprintf(stderr, "spegen: %s: %s\n", o->tmp, strerror(errno));
	return o->f;
}

static int out_close(struct outfile *o)
{
	int bad = ferror(o->f);

	if (fclose(o->f) || bad || rename(o->tmp, o->path)) {
		fprintf(stderr, "spegen: writing %s failed\n", o->path);
		remove(o->tmp);
		return -EIO;
	}
	return 0;
}

static int write_data(const char *path, const uint8_t *buf, size_t len,
		      const char *z)
{
	struct outfile o;
	uint8_t *cbuf = NULL;
	uLongf clen;

	if (!out_open(&o, path))
		return -EIO;
	if (!z) {
		fwrite(buf, 1, len, o.f);
	} else if (!strcmp(z, "zlib")) {
		clen = compressBound(len);
		cbuf = malloc(clen);
		if (!cbuf || compress2(cbuf, &clen, buf, len, 6) != Z_OK) {
			fclose(o.f);
			remove(o.tmp);
			free(cbuf);
			return -ENOMEM;
		}
		fwrite(cbuf, 1, clen, o.f);
		free(cbuf);
	} else {
		gzFile g = gzdopen(dup(fileno(o.f)), "wb6");
		size_t pos = 0;

		while (g && pos < len) {
			unsigned int n = len - pos > (1u << 30) ? 1u << 30 :
				len - pos;

			if (gzwrite(g, buf + pos, n) != (int)n)
				break;
			pos += n;
		}
		if (!g || gzclose(g) != Z_OK || pos != len) {
			fclose(o.f);
			remove(o.tmp);
			return -EIO;
		}
	}
	return out_close(&o);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: spegen -o OUT [-n RECORDS] [-s SEED] [-p PCS] "
		"[-l n1|var|mixed] [-z gzip|zlib] [-t TRUTH.csv]\n"
		"              [-c DAMAGE [-f FATE.csv]] [-S SPLITS [-m MAX]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct spegen_opts go = { .seed = 1, .layout = SPEGEN_N1 };
	const char *out = NULL, *truth_path = NULL, *fate_path = NULL;
	const char *splits = NULL, *z = NULL;
	unsigned long nrec = 100000, damage = 0, split_max = 4096;
	struct spegen_fate *fate = NULL;
	struct spe_record *truth;
	uint8_t *buf, *dmg = NULL;
	size_t len, dlen;
	struct outfile o;
	int c, ret;

	while ((c = getopt(argc, argv, "o:n:s:l:z:t:c:f:S:m:p:")) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': nrec = strtoul(optarg, NULL, 0); break;
		case 's': go.seed = strtoull(optarg, NULL, 0); break;
		case 'p':
			go.npcs = strtoul(optarg, NULL, 0);
			break;
		case 'z': z = optarg; break;
		case 't': truth_path = optarg; break;
		case 'c': damage = strtoul(optarg, NULL, 0); break;
		case 'f': fate_path = optarg; break;
		case 'S': splits = optarg; break;
		case 'm': split_max = strtoul(optarg, NULL, 0); break;
		case 'l':
			if (!strcmp(optarg, "n1"))
				go.layout = SPEGEN_N1;
			else if (!strcmp(optarg, "var"))
				go.layout = SPEGEN_VAR;
			else if (!strcmp(optarg, "mixed"))
				go.layout = SPEGEN_MIXED;
			else
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!out || optind != argc || !nrec || nrec > NREC_MAX ||
	    !split_max || (z && strcmp(z, "gzip") && strcmp(z, "zlib")) ||
	    (fate_path && !damage))
		return usage();

	ret = spegen_stream(&go, nrec, &buf, &len, &truth);
	if (ret) {
		fprintf(stderr, "spegen: %s\n", strerror(-ret));
		return 1;
	}
	if (damage) {
		ret = spegen_corrupt(go.seed ^ 0x5eed, buf, len, truth, nrec,
				     damage, 64, &dmg, &dlen, &fate);
		if (ret) {
			fprintf(stderr, "spegen: -c %lu: %s\n", damage,
				ret == -EINVAL ? "too much damage for the stream"
					       : strerror(-ret));
			return 1;
		}
	}
	ret = write_data(out, dmg ? dmg : buf, dmg ? dlen : len, z);
	if (!ret && truth_path && out_open(&o, truth_path)) {
		spe_record_csv_header(o.f);
		for (size_t i = 0; i < nrec; i++)
			spe_record_csv(o.f, &truth[i], 0);
		ret = out_close(&o);
	} else if (!ret && truth_path) {
		ret = -EIO;
	}
	if (!ret && fate_path && out_open(&o, fate_path)) {
		fprintf(o.f, "record,offset,damaged,exposed\n");
		for (size_t i = 0; i < nrec; i++)
			fprintf(o.f, "%zu,%llu,%u,%u\n", i,
				(unsigned long long)fate[i].offset,
				fate[i].damaged, fate[i].exposed);
		ret = out_close(&o);
	} else if (!ret && fate_path) {
		ret = -EIO;
	}
	if (!ret && splits && out_open(&o, splits)) {
		uint64_t rng = go.seed ^ 0x5b1175;
		size_t total = dmg ? dlen : len;

		for (size_t pos = 0;;) {
			pos += 1 + spegen_below(&rng, split_max);
			if (pos >= total)
				break;
			fprintf(o.f, "%zu\n", pos);
		}
		ret = out_close(&o);
	} else if (!ret && splits) {
		ret = -EIO;
	}
	free(buf);
	free(dmg);
	free(truth);
	free(fate);
	return ret ? 1 : 0;
}
