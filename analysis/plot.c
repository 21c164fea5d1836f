/* plot.c: gnuplot scripts beside their data, rendered by a child gnuplot
 * (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The two outputs of every figure, in script order, and how each ends
 * when complete: gnuplot's cairo terminals exit 0 even when a write fails
 * (a full disk), so a rendered file is checked for its last bytes. */
static const struct {
    const char *ext;
    const char *terminal;
    const char *trailer; /* within the file's last 64 bytes */
} formats[] = {
    {"png", "pngcairo enhanced font \"sans,11\"", "IEND"},
    {"pdf", "pdfcairo enhanced font \"sans,9\"", "%%EOF"},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

int hc_plot_gnuplot_available(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path) return 0;
    char dir[4096];
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len == 0) { /* empty element: the current directory */
            dir[0] = '.';
            len = 1;
        } else if (len < sizeof dir) {
            memcpy(dir, p, len);
        } else {
            len = 0;
        }
        if (len && len + sizeof "/gnuplot" <= sizeof dir) {
            memcpy(dir + len, "/gnuplot", sizeof "/gnuplot");
            struct stat sb;
            if (stat(dir, &sb) == 0 && S_ISREG(sb.st_mode) && access(dir, X_OK) == 0) return 1;
        }
        if (!colon) break;
        p = colon + 1;
    }
    return 0;
}

/* A figure base is one safe file name (outfile.h: hc_safe_name), so its
 * files stay in DIR and it needs no quoting in the script. */
static hc_status check_base(const char *base)
{
    if (!hc_safe_name(base))
        return hc_fail(HC_EINVAL, "figure name '%s': use %s", base, HC_SAFE_NAME_RULE);
    return HC_OK;
}

hc_status hc_plot_csv_open(const char *dir, const char *base, hc_outfile **out)
{
    return hc_plot_csv_open_in(NULL, dir, base, out);
}

hc_status hc_plot_csv_open_in(hc_outset *set, const char *dir, const char *base, hc_outfile **out)
{
    char name[512], path[1024];
    HC_TRY(check_base(base));
    snprintf(name, sizeof name, "%s.csv", base);
    HC_TRY(hc_path_join(path, sizeof path, dir, name));
    return hc_outfile_open_in(set, path, out);
}

hc_status hc_plot_write_script(const char *dir, const char *base, hc_plot_size size,
                               const char *body)
{
    return hc_plot_write_script_in(NULL, dir, base, size, body);
}

hc_status hc_plot_write_script_in(hc_outset *set, const char *dir, const char *base, hc_plot_size size,
                                  const char *body)
{
    char name[512], path[1024];
    HC_TRY(check_base(base));
    HC_ASSERT(size.width > 0 && size.height > 0 && body != NULL);
    snprintf(name, sizeof name, "%s.gp", base);
    HC_TRY(hc_path_join(path, sizeof path, dir, name));
    hc_outfile *f;
    HC_TRY(hc_outfile_open_in(set, path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp,
            "# %s.gp: regenerate %s.png and %s.pdf from %s.csv with\n"
            "#   gnuplot %s.gp\n"
            "# in this directory (gnuplot 5 with the cairo terminals).\n"
            "if (!exists(\"hc_suffix\")) hc_suffix = \"\"\n"
            "set datafile separator comma\n",
            base, base, base, base, base);
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (i == 0)
            fprintf(fp, "set terminal %s size %d,%d\n", formats[i].terminal, size.width, size.height);
        else
            fprintf(fp, "set terminal %s size %.2fin,%.2fin\n", formats[i].terminal,
                    size.width / 120.0, size.height / 120.0);
        fprintf(fp, "set output \"%s.%s\".hc_suffix\n", base, formats[i].ext);
        fputs(body, fp);
        if (body[0] && body[strlen(body) - 1] != '\n') fputc('\n', fp);
        fprintf(fp, "unset multiplot\nset output\n");
    }
    return hc_outfile_commit(f);
}

/* DIR/BASE.EXT plus SUFFIX into buf; HC_EINVAL if it does not fit. */
static hc_status out_path(char *buf, size_t n, const char *dir, const char *base, const char *ext,
                          const char *suffix)
{
    int len = snprintf(buf, n, "%s/%s.%s%s", dir, base, ext, suffix);
    if (len < 0 || (size_t)len >= n) return hc_fail(HC_EINVAL, "%s/%s.%s: path too long", dir, base, ext);
    return HC_OK;
}

/* 1 if the file ends as a complete one of format i does. */
static int rendered_complete(const char *path, size_t i)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char tail[65] = {0};
    size_t got = 0;
    if (fseek(f, -64, SEEK_END) == 0 || fseek(f, 0, SEEK_SET) == 0) got = fread(tail, 1, 64, f);
    fclose(f);
    const size_t tl = strlen(formats[i].trailer);
    for (size_t k = 0; k + tl <= got; k++)
        if (memcmp(tail + k, formats[i].trailer, tl) == 0) return 1;
    return 0;
}

/* Remove the temporary files of every format. */
static void remove_partials(char from[][1200])
{
    for (size_t i = 0; i < N_FORMATS; i++) unlink(from[i]);
}

hc_status hc_plot_render(const char *dir, const char *base) { return hc_plot_render_in(NULL, dir, base); }

/* gnuplot runs where the script's temporary name is (DIR, or the set's
 * staging folder with BASE.csv and BASE.gp), writing each image to its
 * temporary name: that folder plus BASE.EXT plus hc_suffix. */
hc_status hc_plot_render_in(hc_outset *set, const char *dir, const char *base)
{
    HC_TRY(check_base(base));
    char script[512], to[N_FORMATS][1200], from[N_FORMATS][1200], run_dir[1200], suffix[64];
    snprintf(script, sizeof script, "%s.gp", base);
    for (size_t i = 0; i < N_FORMATS; i++) {
        HC_TRY(out_path(to[i], sizeof to[i], dir, base, formats[i].ext, ""));
        HC_TRY(hc_outset_tmp(set, to[i], from[i], sizeof from[i]));
    }
    /* from[0] is RUN_DIR/BASE.png + suffix */
    size_t dl = (size_t)(strrchr(from[0], '/') - from[0]);
    snprintf(run_dir, sizeof run_dir, "%.*s", (int)dl, from[0]);
    snprintf(suffix, sizeof suffix, "hc_suffix='%s'", from[0] + dl + 1 + strlen(base) + 1 + strlen(formats[0].ext));
    int fd[2];
    if (pipe(fd) != 0) return hc_fail(HC_EIO, "%s/%s: cannot create a pipe: %s", dir, script, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return hc_fail(HC_EIO, "%s/%s: cannot fork gnuplot: %s", dir, script, strerror(errno));
    }
    if (pid == 0) { /* child: stderr into the pipe, stdout discarded */
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) dup2(nul, STDOUT_FILENO);
        if (chdir(run_dir) != 0) {
            dprintf(STDERR_FILENO, "cannot enter %s: %s\n", run_dir, strerror(errno));
            _exit(126);
        }
        execlp("gnuplot", "gnuplot", "-e", suffix, script, (char *)NULL);
        dprintf(STDERR_FILENO, "cannot run gnuplot: %s\n", strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char err[2048];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd[0], err + len, sizeof err - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len == sizeof err - 1) { /* keep draining, keep the first part */
            char sink[512];
            while ((r = read(fd[0], sink, sizeof sink)) > 0 || (r < 0 && errno == EINTR)) {}
            break;
        }
    }
    close(fd[0]);
    err[len] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            remove_partials(from);
            return hc_fail(HC_EIO, "%s/%s: waiting for gnuplot: %s", dir, script, strerror(errno));
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        remove_partials(from);
        /* gnuplot's message: its last non-empty line names the problem */
        char *line = err;
        for (char *tok = strtok(err, "\n"); tok; tok = strtok(NULL, "\n"))
            if (strspn(tok, " \t^") < strlen(tok)) line = tok;
        return hc_fail(HC_EIO, "%s/%s: gnuplot failed (%s %d): %s", dir, script,
                       WIFEXITED(status) ? "exit" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                       line[0] ? line : "no message");
    }
    for (size_t i = 0; i < N_FORMATS; i++)
        if (!rendered_complete(from[i], i)) {
            remove_partials(from);
            return hc_fail(HC_EIO, "%s/%s: gnuplot wrote an incomplete %s (a write failed: disk full?)", dir, script, to[i]);
        }
    for (size_t i = 0; i < N_FORMATS; i++) {
        hc_status st = hc_outset_add(set, from[i], to[i]);
        if (st != HC_OK) {
            remove_partials(from);
            return st;
        }
    }
    return HC_OK;
}
