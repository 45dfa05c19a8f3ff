// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * softiommu replay --plot DIR: gnuplot figures of a replay.
 *
 * For each figure NAME it writes NAME.dat (the data, whitespace columns
 * with a '#' header), NAME.gp (a gnuplot script that draws NAME.png and
 * NAME.svg from it; edit and rerun `gnuplot NAME.gp` in DIR to restyle)
 * and then runs gnuplot on the script in DIR.  Figures: footprint (live
 * mappings, live bytes and IOVA span over time), tables (table memory over
 * time), iotlb (hit rate versus IOTLB entries, for the geometries asked),
 * batches (flush batch sizes of the what-if lazy runs), prediction
 * (accuracy over time).  Without gnuplot on PATH the data and scripts are
 * still written and the command says so and fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <softiommu/replay.h>

#include "replay_cli.h"

static FILE *open_in(const char *dir, const char *name, const char *ext)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "softiommu replay: %s: %s\n", path, strerror(errno));
	return f;
}

/* The .gp script: @body is the plot command(s), run once per terminal. */
static int write_gp(const char *dir, const char *name, const char *title,
		    const char *xlabel, const char *ylabel, const char *setup, const char *body)
{
	static const char *const terms[2][2] = {
		{ "pngcairo size 1000,600", "png" },
		{ "svg size 1000,600 dynamic", "svg" },
	};
	FILE *f = open_in(dir, name, "gp");
	unsigned int t;

	if (!f)
		return -1;
	fprintf(f, "# softiommu replay: %s.  Run `gnuplot %s.gp` here to redraw.\n", title, name);
	fprintf(f, "set title \"%s\"\nset xlabel \"%s\"\nset ylabel \"%s\"\nset grid\nset key top left\n",
		title, xlabel, ylabel);
	fprintf(f, "%s", setup);
	for (t = 0; t < 2; t++) {
		fprintf(f, "set terminal %s\nset output \"%s.%s\"\n", terms[t][0], name, terms[t][1]);
		fprintf(f, "%s\n", body);
	}
	fprintf(f, "unset output\n");
	return fclose(f) ? -1 : 0;
}

static int run_gnuplot(const char *dir, const char *name)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char script[512];

		if (chdir(dir))
			_exit(127);
		snprintf(script, sizeof(script), "%s.gp", name);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return 127;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

int replay_plot(struct siommu_replay *r, const struct replay_args *a, const char *dir)
{
	const struct siommu_replay_report *p = siommu_replay_get_report(r);
	const struct siommu_replay_sample *s = siommu_replay_samples(r);
	size_t n = siommu_replay_nr_samples(r), i;
	const char *figs[5];
	unsigned int nfigs = 0, k;
	double t0 = n ? (double)s[0].ts_ns : 0;
	FILE *f;
	int ret = 0;

	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "softiommu replay: --plot %s: %s\n", dir, strerror(errno));
		return -1;
	}
	/* footprint and tables over time */
	f = open_in(dir, "footprint", "dat");
	if (!f)
		return -1;
	fprintf(f, "# seconds event live_maps live_bytes iova_span table_bytes\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			((double)s[i].ts_ns - t0) / 1e9, s[i].event, s[i].live_maps, s[i].live_bytes,
			s[i].iova_span, s[i].table_bytes);
	if (fclose(f))
		return -1;
	if (write_gp(dir, "footprint", "Live mappings and IOVA footprint", "seconds since the first event",
		     "KiB", "set y2label \"live mappings\"\nset y2tics\nset ytics nomirror\n",
		     "plot \"footprint.dat\" using 1:($4/1024) with steps title \"live bytes\", "
		     "\"footprint.dat\" using 1:($5/1024) with steps title \"IOVA span\", "
		     "\"footprint.dat\" using 1:3 axes x1y2 with steps title \"live mappings\""))
		return -1;
	figs[nfigs++] = "footprint";
	if (write_gp(dir, "tables", "Page-table memory", "seconds since the first event", "KiB", "",
		     "plot \"footprint.dat\" using 1:($6/1024) with steps title \"table memory\""))
		return -1;
	figs[nfigs++] = "tables";
	/* IOTLB hit rate versus entries */
	f = open_in(dir, "iotlb", "dat");
	if (!f)
		return -1;
	fprintf(f, "# entries sets ways hit_pct\n");
	for (k = 0; k < p->nr_tlbs; k++)
		fprintf(f, "%u %u %u %.4f\n", p->tlb[k].geom.sets * p->tlb[k].geom.ways,
			p->tlb[k].geom.sets, p->tlb[k].geom.ways,
			p->tlb[k].accesses ? 100.0 * (double)p->tlb[k].hits / (double)p->tlb[k].accesses : 0);
	if (fclose(f))
		return -1;
	if (write_gp(dir, "iotlb", "IOTLB hit rate of the synthetic DMA stream", "entries (sets x ways)",
		     "hit rate (%)", "set logscale x 2\nset yrange [0:100]\n",
		     "plot \"iotlb.dat\" using 1:4 with linespoints title \"hit rate\""))
		return -1;
	figs[nfigs++] = "iotlb";
	if (a->opts.whatif) {
		static const char *const bins[8] = { "1", "2", "3-4", "5-8", "9-16", "17-32", "33-64", ">64" };

		f = open_in(dir, "batches", "dat");
		if (!f)
			return -1;
		fprintf(f, "# batch linux softiommu first-fit (lazy runs: flushes freeing that many IOVAs)\n");
		for (k = 0; k < 8; k++)
			fprintf(f, "\"%s\" %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", bins[k],
				p->whatif[SIOMMU_REPLAY_POL_LINUX][1].batch_hist[k],
				p->whatif[SIOMMU_REPLAY_POL_SOFTIOMMU][1].batch_hist[k],
				p->whatif[SIOMMU_REPLAY_POL_FIRSTFIT][1].batch_hist[k]);
		if (fclose(f))
			return -1;
		if (write_gp(dir, "batches", "Flush batch sizes (lazy)", "IOVAs freed by one flush", "flushes",
			     "set style data histograms\nset style fill solid 0.8 border -1\n",
			     "plot \"batches.dat\" using 2:xtic(1) title \"linux\", '' using 3 title \"softiommu\", "
			     "'' using 4 title \"first-fit\""))
			return -1;
		figs[nfigs++] = "batches";
	}
	if (p->predicted) {
		uint64_t ts, fh, rh;

		f = open_in(dir, "prediction", "dat");
		if (!f)
			return -1;
		fprintf(f, "# seconds allocation forced_pct free_running_pct\n");
		for (i = 0; !siommu_replay_pred_point(r, i, &ts, &fh, &rh); i++)
			fprintf(f, "%.6f %zu %.4f %.4f\n", ((double)ts - t0) / 1e9, i + 1,
				100.0 * (double)fh / (double)(i + 1), 100.0 * (double)rh / (double)(i + 1));
		if (fclose(f))
			return -1;
		if (write_gp(dir, "prediction", "Prediction of the kernel's IOVAs (cumulative)",
			     "allocation", "correct (%)", "set yrange [0:100]\n",
			     "plot \"prediction.dat\" using 2:3 with lines title \"forced\", "
			     "\"prediction.dat\" using 2:4 with lines title \"free-running\""))
			return -1;
		figs[nfigs++] = "prediction";
	}
	for (k = 0; k < nfigs; k++) {
		int g = run_gnuplot(dir, figs[k]);

		if (g == 127) {
			fprintf(stderr, "softiommu replay: --plot: gnuplot not found (Debian: gnuplot-nox); "
					"the .dat and .gp files are in %s\n", dir);
			return -1;
		}
		if (g) {
			fprintf(stderr, "softiommu replay: --plot: gnuplot failed on %s/%s.gp\n", dir, figs[k]);
			ret = -1;
		}
	}
	return ret;
}
