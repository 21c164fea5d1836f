/* cmd_run.c: `hicache run`: a declared experiment grid from a JSON config. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <cjson/cJSON.h>

#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "exp_gauss.h"
#include "experiment.h"
#include "mpi_comm.h"
#include "outfile.h"

void openblas_set_num_threads(int n);

/* A config whose top level has "gauss" is a Gaussianity experiment. */
static int run_gauss(const char *config, const char *out_dir, int quiet, int worker, hc_status *st)
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
    if (worker) { /* rank 0 runs it alone */
        cJSON_Delete(doc);
        *st = HC_OK;
        return 1;
    }
    *st = hc_exp_gauss_run(doc, config, out_dir, &skipped, dir, sizeof dir);
    cJSON_Delete(doc);
    if (*st == HC_OK && !quiet)
    {
        if (skipped) printf("%s: finished earlier (%s/summary.json exists)\n", config, dir);
        else printf("wrote %s/{gauss.csv,summary.json,summary.md} and figures\n", dir);
    }
    return 1;
}

/* ---- MPI: rank 0's last words when mpirun ends the job --------------------------------- */

static char stop_msg[1400];

static void on_term(int sig)
{
    (void)sig;
    ssize_t w = write(2, stop_msg, strlen(stop_msg));
    (void)w;
    _exit(1);
}

/* OpenBLAS threads: --threads, else the environment's, else (under MPI)
 * the node's cores divided by its ranks. */
static void set_threads(int threads, int local_ranks, int mpi)
{
    if (!threads && mpi && !getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS")) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)(cores / (local_ranks > 0 ? local_ranks : 1)) : 1;
        if (threads < 1) threads = 1;
    }
    if (threads) openblas_set_num_threads(threads);
}

/* --shard I/K */
static hc_status parse_shard(const char *v, int *shard, int *n)
{
    long a, b;
    char x[64];
    const char *slash = strchr(v, '/');
    if (!slash || (size_t)(slash - v) >= sizeof x)
        return hc_fail(HC_EINVAL, "--shard: '%s' is not I/K (e.g. 0/4: the first of 4 shards)", v);
    snprintf(x, sizeof x, "%.*s", (int)(slash - v), v);
    HC_TRY(cli_int("--shard K", slash + 1, 1, 100000, &b));
    HC_TRY(cli_int("--shard I", x, 0, b - 1, &a));
    *shard = (int)a;
    *n = (int)b;
    return HC_OK;
}

static void print_report(const hc_experiment *e, const hc_experiment_report *rep, const hc_experiment_run_opts *o,
                         const char *config)
{
    if (o->n_shards && !o->merge) {
        printf("%s: shard %d/%d: %d cells computed; %d of %d cells finished in %s; when every shard is done: "
               "hicache run %s --merge -o %s\n",
               hc_experiment_name(e), o->shard, o->n_shards, rep->computed, rep->cells - rep->missing, rep->cells,
               rep->out_dir, config, rep->out_dir);
    } else if (rep->reported) {
        printf("%s: %d cells (%d computed, %d loaded from earlier runs%s)\n", hc_experiment_name(e), rep->cells,
               rep->computed, rep->loaded, rep->missing ? ", the rest missing" : "");
        printf("wrote %s/table.md, table.tex, results.csv, summary.json", rep->out_dir);
        if (rep->figures) printf(" and %d figure%s in %s/figures (%d rendered)", rep->figures, rep->figures == 1 ? "" : "s",
                                 rep->out_dir, rep->rendered);
        printf("\n");
    } else {
        printf("%s: stopped after %d computed cells (%d of %d finished); run the same command again to continue\n",
               hc_experiment_name(e), rep->computed, rep->computed + rep->loaded, rep->cells);
    }
}

/* A merge's missing cells, in one line on stderr; exit status 2. */
static int report_missing(const hc_experiment *e, const hc_experiment_report *rep)
{
    fprintf(stderr, "hicache run: merge: %d of %d cells missing (shown as missing values in the report):", rep->missing,
            rep->cells);
    for (int i = 0, k = 0; i < hc_experiment_num_cells(e); i++) {
        if (hc_experiment_cell_done(e, i)) continue;
        if (k++ == 8) {
            fprintf(stderr, " and %d more", rep->missing - 8);
            break;
        }
        fprintf(stderr, "%s %s (%s)", k > 1 ? "," : "", hc_experiment_cell_id(e, i), hc_experiment_cell_label(e, i));
    }
    fprintf(stderr, "; run their shards and merge again\n");
    return 2;
}

static int run_one(int argc, char **argv, const hc_exp_comm *comm, int local_ranks)
{
    const char *config = NULL;
    hc_experiment_run_opts o;
    hc_experiment_run_defaults(&o);
    int quiet = 0, list = 0, threads = 0, worker = comm && comm->rank > 0;
    long v;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) && i + 1 < argc) o.out_dir = argv[++i];
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) quiet = 1;
        else if (strcmp(a, "--lines") == 0) o.progress = HC_PROGRESS_LINES;
        else if (strcmp(a, "--no-render") == 0) o.render = 0;
        else if (strcmp(a, "--list") == 0) list = 1;
        else if (strcmp(a, "--merge") == 0) o.merge = 1;
        else if (strcmp(a, "--shard") == 0 && i + 1 < argc) st = parse_shard(argv[++i], &o.shard, &o.n_shards);
        else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            if ((st = cli_int("--threads", argv[++i], 1, 4096, &v)) == HC_OK) threads = (int)v;
        } else if (strcmp(a, "--max-cells") == 0 && i + 1 < argc) {
            if ((st = cli_int("--max-cells", argv[++i], 1, 1000000, &v)) == HC_OK) o.max_cells = (int)v;
        } else if (a[0] == '-' && a[1]) st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s' (see hicache run --help)", a);
        else if (config) st = hc_fail(HC_EINVAL, "unexpected argument '%s' (one config file per run)", a);
        else config = a;
    }
    if (st == HC_OK && !config) st = hc_fail(HC_EINVAL, "no config given (e.g. hicache run experiments/quick.json)");
    if (st == HC_OK && comm && (o.merge || o.n_shards))
        st = hc_fail(HC_EINVAL, "--shard and --merge are for runs without mpirun (job arrays); under mpirun rank 0 "
                                "hands the cells out itself");
    if (st == HC_OK && o.merge && o.n_shards) st = hc_fail(HC_EINVAL, "--merge computes nothing: give it without --shard");
    if (quiet || worker) o.progress = HC_PROGRESS_NONE;
    o.comm = comm;
    if (st == HC_OK) set_threads(threads, local_ranks, comm != NULL);
    if (st == HC_OK && run_gauss(config, o.out_dir, quiet, worker, &st)) return st == HC_OK ? 0 : cli_error("run", st);
    hc_experiment *e = NULL;
    if (st == HC_OK) st = hc_experiment_load(config, &e);
    if (st != HC_OK || list) {
        if (worker) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", hc_errmsg());
            hc_experiment_comm_refuse(comm, msg); /* rank 0 reports */
            hc_experiment_free(e);
            return st == HC_OK ? 0 : 1;
        }
        hc_experiment_comm_release(comm);
        for (int i = 0; list && st == HC_OK && i < hc_experiment_num_cells(e); i++)
            printf("%s  %s\n", hc_experiment_cell_id(e, i), hc_experiment_cell_label(e, i));
        hc_experiment_free(e);
        return st == HC_OK ? 0 : cli_error("run", st);
    }
    if (comm && !worker) {
        snprintf(stop_msg, sizeof stop_msg, "hicache run: stopped by mpirun (a rank died or the job was ended); every "
                 "finished cell is in %s/cells: run the same command again to resume\n",
                 o.out_dir ? o.out_dir : "out/<name>");
        signal(SIGTERM, on_term);
    }
    hc_experiment_report rep;
    st = hc_experiment_run(e, &o, &rep);
    int rc = st == HC_OK ? 0 : cli_error("run", st);
    if (st == HC_OK && !quiet && !worker) print_report(e, &rep, &o, config);
    if (st == HC_OK && !worker && o.merge && rep.missing) rc = report_missing(e, &rep);
    hc_experiment_free(e);
    return rc;
}

static int run(int argc, char **argv)
{
    if (!cli_mpi_launched()) return run_one(argc, argv, NULL, 1);
    hc_exp_comm comm;
    int local = 1;
    hc_status st = cli_mpi_init(&argc, &argv, &comm, &local);
    if (st != HC_OK) return cli_error("run", st);
    int rc = run_one(argc, argv, comm.size > 1 ? &comm : NULL, local);
    cli_mpi_finalize();
    return rc;
}

const hc_command hc_cmd_run = {
    "run", "run a declared experiment grid (experiments/<name>.json)", run,
    "usage: hicache run CONFIG.json [-o DIR] [--quiet] [--lines] [--no-render] [--max-cells K] [--list]\n"
    "                   [--threads T] [--shard I/K | --merge]\n"
    "       mpirun -np K hicache run CONFIG.json [-o DIR] [--threads T] ...\n"
    "\n"
    "Run the experiment a JSON config declares (docs/experiments.md; shipped\n"
    "configs in experiments/: quick, table_main, ablation_sigma, ablation_order,\n"
    "pareto, error_curves, gaussianity, policies; DiT: table_dit, pareto_dit,\n"
    "policies_dit).  A\n"
    "config names engines (\"replay\": open-loop error on trajectory files; \"live\":\n"
    "sampling with the bundled model, quality\n"
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
    "  --threads T       OpenBLAS threads per process (default: OPENBLAS_NUM_THREADS,\n"
    "                    else OpenBLAS's own; under mpirun the node's cores divided\n"
    "                    by its ranks)\n"
    "\n"
    "Beyond one process (docs/cluster.md):\n"
    "  mpirun -np K hicache run CONFIG -o DIR\n"
    "                    rank 0 hands the cells out, most expensive first, to\n"
    "                    every rank (itself included); finished cells travel to\n"
    "                    rank 0 as messages and rank 0 writes every output (no\n"
    "                    shared file system needed, only the inputs on every\n"
    "                    node).  Same tables as one process; resumes either way;\n"
    "                    a rank that dies ends the run, finished cells are kept.\n"
    "  --shard I/K       compute only shard I (0..K-1) of a cost-balanced\n"
    "                    partition of the cells that is the same in every shard\n"
    "                    (plus the references its cells are scored against), into\n"
    "                    DIR/cells as usual; no report.  For job arrays:\n"
    "                    --shard $SLURM_ARRAY_TASK_ID/K\n"
    "  --merge           compute nothing: write the report from the cells in DIR.\n"
    "                    Missing cells are named on stderr in one line, shown as\n"
    "                    missing values in the report, and the exit status is 2\n"
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
    "Exit status 0 on success, 1 on any error (one line on stderr), 2 for a\n"
    "--merge with missing cells.\n",
};
