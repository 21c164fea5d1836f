/* cmd_normality.c: `hicache normality` and `hicache mvnormality`: the
 * univariate and multivariate normality tests of src/eval on a plain
 * numeric CSV file, printed as one JSON object (the numerical contract of
 * the statistics module, checked against scipy / R in the tests). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "csvread.h"
#include "mvnormal.h"
#include "normality.h"

/* Re-raise the current failure with a prefix (the message buffer cannot be
 * both source and destination of hc_fail). */
static hc_status wrap(hc_status st, const char *prefix)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", hc_errmsg());
    return hc_fail(st, "%s: %s", prefix, msg);
}

static int print_json(const char *cmd, cJSON *o)
{
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return cli_error(cmd, hc_fail(HC_ENOMEM, "out of memory printing JSON"));
    puts(s);
    cJSON_free(s);
    return 0;
}

/* Resolve --column: a header name, else a 0-based index. */
static hc_status find_column(const char *path, const char *spec, char **header, size_t n_cols, size_t *col)
{
    if (header)
        for (size_t j = 0; j < n_cols; j++)
            if (strcmp(header[j], spec) == 0) {
                *col = j;
                return HC_OK;
            }
    char *end;
    errno = 0;
    long v = strtol(spec, &end, 10);
    if (end == spec || *end || !(isdigit((unsigned char)spec[0]) || spec[0] == '-')) {
        char list[256] = "";
        size_t len = 0;
        for (size_t j = 0; header && j < n_cols && len < sizeof list; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", header[j]);
        return hc_fail(HC_EINVAL, "--column '%s': %s has no such column (%s)", spec, path,
                       header ? list : "no header: give a 0-based index");
    }
    if (errno || v < 0 || (size_t)v >= n_cols)
        return hc_fail(HC_EINVAL, "--column %s out of range: %s has %zu column%s (0-based, 0..%zu)", spec, path,
                       n_cols, n_cols == 1 ? "" : "s", n_cols - 1);
    *col = (size_t)v;
    return HC_OK;
}

static int run_normality(int argc, char **argv)
{
    static const struct option longopts[] = {{"csv", required_argument, NULL, 'c'},
                                             {"column", required_argument, NULL, 'k'},
                                             {"seed", required_argument, NULL, 's'},
                                             {0, 0, 0, 0}};
    const char *path = NULL, *column = NULL;
    unsigned long seed = 0;
    hc_status st = HC_OK;
    int c;
    optind = 1;
    while (st == HC_OK && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        long iv;
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': column = optarg; break;
        case 's':
            if ((st = cli_int("--seed", optarg, 0, 2147483647L, &iv)) == HC_OK) seed = (unsigned long)iv;
            break;
        default:
            fprintf(stderr, "hicache normality: see `hicache normality --help`\n");
            return 2;
        }
    }
    if (st != HC_OK) return cli_error("normality", st);
    if (optind < argc) {
        fprintf(stderr, "hicache normality: unexpected argument '%s' (see `hicache normality --help`)\n",
                argv[optind]);
        return 2;
    }
    if (!path) {
        fprintf(stderr, "hicache normality: --csv FILE is required (see `hicache normality --help`)\n");
        return 2;
    }
    double *data = NULL;
    char **header = NULL;
    size_t n = 0, p = 0, col = 0;
    hc_normality_result r;
    st = hc_csv_read_matrix(path, &data, &n, &p, &header);
    if (st == HC_OK && column) st = find_column(path, column, header, p, &col);
    if (st == HC_OK && (st = hc_normality_test(data + col, n, p, seed, &r)) != HC_OK) {
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "%s: column %zu%s%s", path, col, header ? " " : "", header ? header[col] : "");
        st = wrap(st, prefix);
    }
    free(data);
    hc_csv_header_free(header, p);
    if (st != HC_OK) return cli_error("normality", st);
    cJSON *o = cJSON_CreateObject();
    if (!o || (st = hc_normality_to_json(&r, o)) != HC_OK) {
        cJSON_Delete(o);
        return cli_error("normality", st != HC_OK ? st : hc_fail(HC_ENOMEM, "out of memory"));
    }
    return print_json("normality", o);
}

static int run_mvnormality(int argc, char **argv)
{
    static const struct option longopts[] = {{"csv", required_argument, NULL, 'c'}, {0, 0, 0, 0}};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'c') path = optarg;
        else {
            fprintf(stderr, "hicache mvnormality: see `hicache mvnormality --help`\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hicache mvnormality: unexpected argument '%s' (see `hicache mvnormality --help`)\n",
                argv[optind]);
        return 2;
    }
    if (!path) {
        fprintf(stderr, "hicache mvnormality: --csv FILE is required (see `hicache mvnormality --help`)\n");
        return 2;
    }
    double *data = NULL;
    size_t n = 0, p = 0;
    hc_mvnormality_result r;
    hc_status st = hc_csv_read_matrix(path, &data, &n, &p, NULL);
    if (st == HC_OK && (st = hc_mvnormality_test(data, n, p, p, &r)) != HC_OK) st = wrap(st, path);
    free(data);
    if (st != HC_OK) return cli_error("mvnormality", st);
    cJSON *o = cJSON_CreateObject();
    if (!o || (st = hc_mvnormality_to_json(&r, o)) != HC_OK) {
        cJSON_Delete(o);
        return cli_error("mvnormality", st != HC_OK ? st : hc_fail(HC_ENOMEM, "out of memory"));
    }
    return print_json("mvnormality", o);
}

#define CSV_FORMAT_HELP                                                                     \
    "CSV format: comma-separated numbers, one row per line; an optional header\n"          \
    "line (any non-numeric cell makes the first line a header); blank lines\n"              \
    "are skipped; every row has the same number of cells; no quoted cells.\n"

const hc_command hc_cmd_normality = {
    "normality", "univariate normality tests on a CSV column (JSON)", run_normality,
    "usage: hicache normality --csv FILE [--column K] [--seed S]\n"
    "\n"
    "Test whether the values of one CSV column are a sample from a normal\n"
    "distribution and print one JSON object with exactly these keys:\n"
    "\n"
    "  n         sample size (at least 8)\n"
    "  g1        population skewness m3/m2^1.5 (scipy skew(bias=True); not GSL's\n"
    "            gsl_stats_skew, which uses the n-1 standard deviation)\n"
    "  g2        population excess kurtosis m4/m2^2 - 3\n"
    "  jb, jb_p  Jarque-Bera n/6 (g1^2 + g2^2/4) and its chi^2(2) p-value\n"
    "  skew_z    D'Agostino (1970) skewness z (scipy skewtest)\n"
    "  kurt_z    Anscombe-Glynn (1983) kurtosis z (scipy kurtosistest)\n"
    "  k2, k2_p  D'Agostino-Pearson K^2 = skew_z^2 + kurt_z^2, chi^2(2) p-value\n"
    "  sw_w, sw_p  Shapiro-Wilk W and p, Royston's algorithm AS R94, defined for\n"
    "            3 <= n <= 5000; above 5000 values it is computed on a seeded\n"
    "            subsample of 5000 (see --seed)\n"
    "  ad_a2     Anderson-Darling A^2 against a normal with the sample mean and\n"
    "            (n-1) standard deviation (parameters estimated)\n"
    "  ad_astar  A* = A^2 (1 + 0.75/n + 2.25/n^2)\n"
    "  ad_p      its p-value (D'Agostino-Stephens 1986, as R nortest::ad.test)\n"
    "\n"
    "p-values are upper-tail probabilities: small means \"not normal\".\n"
    "\n"
    "  --csv FILE      the data (required)\n"
    "  --column K      the column to test: a 0-based index or a header name\n"
    "                  (default 0, the first column)\n"
    "  --seed S        seed of the Shapiro-Wilk subsample when n > 5000\n"
    "                  (default 0; unused for n <= 5000)\n"
    "\n" CSV_FORMAT_HELP
    "\n"
    "Errors (one line on stderr, exit 1): unreadable file, a non-numeric or\n"
    "empty cell (named by line and column), rows of different lengths, fewer\n"
    "than 8 values, a non-finite value, constant data, a column out of range.\n"
    "Usage errors exit 2.\n",
};

const hc_command hc_cmd_mvnormality = {
    "mvnormality", "multivariate normality tests on CSV rows (JSON)", run_mvnormality,
    "usage: hicache mvnormality --csv FILE\n"
    "\n"
    "Test whether the rows of a CSV file (n samples of p variables, one per\n"
    "column) are a sample from a multivariate normal distribution and print one\n"
    "JSON object with exactly these keys:\n"
    "\n"
    "  n, p                 samples and variables (need n > p and n >= 3)\n"
    "  mardia_skew          Mardia's skewness statistic n b1 / 6, chi^2 with\n"
    "                       p(p+1)(p+2)/6 degrees of freedom under normality\n"
    "  mardia_skew_p        its p-value\n"
    "  mardia_skew_small    the small-sample corrected statistic k n b1 / 6,\n"
    "                       k = (p+1)(n+1)(n+3) / (n((n+1)(p+1) - 6)) (Mardia 1974)\n"
    "  mardia_skew_small_p  its p-value (same degrees of freedom)\n"
    "  mardia_kurt_z        Mardia's kurtosis (b2 - p(p+2)) / sqrt(8p(p+2)/n)\n"
    "  mardia_kurt_p        its two-sided normal p-value\n"
    "  hz, hz_p             Henze-Zirkler (1990) statistic with smoothing\n"
    "                       beta = (n(2p+1)/4)^(1/(p+4)) / sqrt 2 and its p-value\n"
    "                       from the lognormal with HZ's mean and variance\n"
    "\n"
    "Covariance convention: the sample covariance uses divisor n,\n"
    "S = (1/n) sum (x_i - mean)(x_i - mean)^T, Mardia's (1970) own definition and\n"
    "R MVN's cov = TRUE.  With the unbiased (n-1) covariance, as R dprep::mardia,\n"
    "b1 scales by ((n-1)/n)^3 and b2 by ((n-1)/n)^2.  Here b1 = (1/n^2) sum_ij\n"
    "G_ij^3 and b2 = (1/n) sum_i G_ii^2 with G_ij = (x_i - mean)^T S^-1 (x_j - mean).\n"
    "\n"
    "  --csv FILE      the data (required); every column is a variable\n"
    "\n" CSV_FORMAT_HELP
    "\n"
    "Cost O(n^2 p): subsample to n of a few thousand.  Errors (one line on\n"
    "stderr, exit 1): unreadable file, a non-numeric cell, n <= p, a non-finite\n"
    "value, a singular covariance (constant or collinear columns).  Usage\n"
    "errors exit 2.\n",
};
