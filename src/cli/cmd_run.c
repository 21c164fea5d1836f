/* cmd_run.c: `hicache run`: a declared experiment grid from a JSON config. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "exp_gauss.h"
#include "experiment.h"
#include "outfile.h"

/* A config whose top level has "gauss" is a Gaussianity experiment. */
static int run_gauss(const char *config, const char *out_dir, int quiet, hc_status *st)
{
    char *text = NULL;
    if (hc_read_text(config, &text, NULL) != HC_OK) {
        hc_errclear(); /* the experiment loader reports it */
        return 0;
    }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc || !hc_exp_is_gauss(doc)) {
        cJSON_Delete(doc);
        return 0;
    }
    int skipped;
    char dir[1100];
    *st = hc_exp_gauss_run(doc, config, out_dir, &skipped, dir, sizeof dir);
    cJSON_Delete(doc);
    if (*st == HC_OK && !quiet)
    {
        if (skipped) printf("%s: finished earlier (%s/summary.json exists)\n", config, dir);
        else printf("wrote %s/{gauss.csv,summary.json,summary.md} and figures\n", dir);
    }
    return 1;
}

static int run(int argc, char **argv)
{
    const char *config = NULL;
    hc_experiment_run_opts o;
    hc_experiment_run_defaults(&o);
    int quiet = 0, list = 0;
    long v;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) && i + 1 < argc) o.out_dir = argv[++i];
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) quiet = 1;
        else if (strcmp(a, "--lines") == 0) o.progress = HC_PROGRESS_LINES;
        else if (strcmp(a, "--no-render") == 0) o.render = 0;
        else if (strcmp(a, "--list") == 0) list = 1;
        else if (strcmp(a, "--max-cells") == 0 && i + 1 < argc) {
            if ((st = cli_int("--max-cells", argv[++i], 1, 1000000, &v)) == HC_OK) o.max_cells = (int)v;
        } else if (a[0] == '-' && a[1]) st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s' (see hicache run --help)", a);
        else if (config) st = hc_fail(HC_EINVAL, "unexpected argument '%s' (one config file per run)", a);
        else config = a;
    }
    if (st == HC_OK && !config) st = hc_fail(HC_EINVAL, "no config given (e.g. hicache run experiments/quick.json)");
    if (quiet) o.progress = HC_PROGRESS_NONE;
    if (st == HC_OK && run_gauss(config, o.out_dir, quiet, &st)) return st == HC_OK ? 0 : cli_error("run", st);
    hc_experiment *e = NULL;
    if (st == HC_OK) st = hc_experiment_load(config, &e);
    if (st == HC_OK && list) {
        for (int i = 0; i < hc_experiment_num_cells(e); i++)
            printf("%s  %s\n", hc_experiment_cell_id(e, i), hc_experiment_cell_label(e, i));
        hc_experiment_free(e);
        return 0;
    }
    hc_experiment_report rep;
    if (st == HC_OK) st = hc_experiment_run(e, &o, &rep);
    if (st == HC_OK && !quiet) {
        if (rep.complete) {
            printf("%s: %d cells (%d computed, %d loaded from earlier runs)\n", hc_experiment_name(e), rep.cells,
                   rep.computed, rep.loaded);
            printf("wrote %s/table.md, table.tex, results.csv, summary.json", rep.out_dir);
            if (rep.figures) printf(" and %d figure%s in %s/figures (%d rendered)", rep.figures, rep.figures == 1 ? "" : "s",
                                    rep.out_dir, rep.rendered);
            printf("\n");
        } else {
            printf("%s: stopped after %d computed cells (%d of %d finished); run the same command again to continue\n",
                   hc_experiment_name(e), rep.computed, rep.computed + rep.loaded, rep.cells);
        }
    }
    hc_experiment_free(e);
    return st == HC_OK ? 0 : cli_error("run", st);
}

const hc_command hc_cmd_run = {
    "run", "run a declared experiment grid (experiments/<name>.json)", run,
    "usage: hicache run CONFIG.json [-o DIR] [--quiet] [--lines] [--no-render] [--max-cells K] [--list]\n"
    "\n"
    "Run the experiment a JSON config declares (docs/experiments.md; shipped\n"
    "configs in experiments/: quick, table_main, ablation_sigma, ablation_order,\n"
    "pareto, error_curves, gaussianity, policies).  A config names engines (\"replay\": open-loop error\n"
    "on trajectory files; \"live\": sampling with the bundled model, quality\n"
    "against full compute with the same noise) and a list of methods, each a\n"
    "spec or a spec template with a grid over keys (expanded to the cartesian\n"
    "product), plus seeds, table columns and figures.  The config is validated\n"
    "before anything runs; an error names the JSON path, e.g.\n"
    "  experiments/x.json: $.methods[2].spec: unknown method 'tayler' (valid: ...)\n"
    "\n"
    "Every (method, seed, engine) is a cell with a stable id (a hash of the\n"
    "resolved spec, engine, seed and engine settings).  Its result is written\n"
    "atomically to DIR/cells/ID.json as soon as it finishes; a run that is\n"
    "killed and restarted loads finished cells and computes only the rest.\n"
    "\n"
    "  -o, --out DIR     output directory (default out/NAME, NAME from the config)\n"
    "  -q, --quiet       no progress and no summary lines\n"
    "  --lines           one progress line per cell even on a terminal (default:\n"
    "                    a progress bar when stderr is a terminal, else lines)\n"
    "  --no-render       write figure .csv and .gp files but do not run gnuplot\n"
    "  --max-cells K     compute at most K cells, then stop (resume later)\n"
    "  --list            print the cells (id and label) and exit\n"
    "\n"
    "Outputs in DIR (each written atomically; the report's files, from\n"
    "results.csv to figures/, appear together when all are complete, so a\n"
    "failed report leaves none of them):\n"
    "  cells/ID.json     one per cell: metrics, engine output, provenance\n"
    "  raw/ID/           the engine's own outputs (replay results.csv and\n"
    "                    summary.json; live metrics.json, samples.h5, grid.png)\n"
    "  results.csv       long form: cell,engine,method,label,seed,metric,value\n"
    "  summary.json      provenance (resolved config, seeds, git commit, library\n"
    "                    versions), every cell's metrics, the tables\n"
    "  table.md          Markdown tables, table.tex LaTeX booktabs tables: full\n"
    "                    compute first, best value per column in bold, arrows\n"
    "                    for better direction (rel-L2 down, PSNR up, ...)\n"
    "  figures/NAME.{csv,gp,png,pdf}  gnuplot figures; `gnuplot NAME.gp` in\n"
    "                    figures/ regenerates the PNG and PDF\n"
    "Exit status 0 on success, 1 on any error (one line on stderr).\n",
};
