/* outfile.c: atomic result files (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hc_outfile {
    FILE *fp;
    hc_outset *set; /* NULL: renamed at commit */
    char path[1024];
    char tmp[1040];
};

/* A member of a set: a complete partial file and its final name. */
typedef struct outset_member {
    char *tmp, *path;
} outset_member;

struct hc_outset {
    outset_member *m;
    int n, cap;
    char **staging;  /* staging folders created or used, removed when empty */
    int n_staging;
};

#define STAGING ".partial"

hc_status hc_outfile_open(const char *path, hc_outfile **out) { return hc_outfile_open_in(NULL, path, out); }

hc_status hc_outfile_open_in(hc_outset *set, const char *path, hc_outfile **out)
{
    *out = NULL;
    hc_outfile *f = calloc(1, sizeof *f);
    if (!f) return hc_fail(HC_ENOMEM, "out of memory");
    if (strlen(path) >= sizeof f->path) {
        free(f);
        return hc_fail(HC_EINVAL, "%s: path too long", path);
    }
    f->set = set;
    snprintf(f->path, sizeof f->path, "%s", path);
    hc_status st = hc_outset_tmp(set, path, f->tmp, sizeof f->tmp);
    if (st != HC_OK) {
        free(f);
        return st;
    }
    f->fp = fopen(f->tmp, "w");
    if (!f->fp) {
        hc_status st = hc_fail(HC_EIO, "%s: cannot write: %s", f->tmp, strerror(errno));
        free(f);
        return st;
    }
    *out = f;
    return HC_OK;
}

FILE *hc_outfile_fp(hc_outfile *f) { return f->fp; }

hc_status hc_outfile_commit(hc_outfile *f)
{
    hc_status st = HC_OK;
    int bad = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    if (fclose(f->fp) != 0) bad = 1;
    if (bad) {
        st = hc_fail(HC_EIO, "%s: write failed: %s", f->path, strerror(errno));
        unlink(f->tmp);
    } else {
        st = hc_outset_add(f->set, f->tmp, f->path);
    }
    free(f);
    return st;
}

void hc_outfile_abort(hc_outfile *f)
{
    if (!f) return;
    fclose(f->fp);
    unlink(f->tmp);
    free(f);
}

hc_status hc_write_text(const char *path, const char *text) { return hc_write_text_in(NULL, path, text); }
hc_status hc_write_json(const char *path, const cJSON *doc) { return hc_write_json_in(NULL, path, doc); }

hc_status hc_write_text_in(hc_outset *set, const char *path, const char *text)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open_in(set, path, &f));
    fputs(text, hc_outfile_fp(f));
    return hc_outfile_commit(f);
}

/* cJSON prints a number with 15 significant digits whenever they read back
 * within a relative DBL_EPSILON, so a value can lose its last bit on a round
 * trip (a resumed run would then differ from a fresh one).  Numbers whose
 * 15-digit form is not exact become raw 17-digit text, which is. */
static int exact_numbers(cJSON *node)
{
    for (cJSON *c = node->child; c; c = c->next) {
        if (!cJSON_IsNumber(c)) {
            if (!exact_numbers(c)) return 0;
            continue;
        }
        double d = c->valuedouble;
        char b[40];
        if (!isfinite(d) || d == (double)c->valueint) continue;
        snprintf(b, sizeof b, "%.15g", d);
        if (strtod(b, NULL) == d) continue;
        snprintf(b, sizeof b, "%.17g", d);
        char *raw = malloc(strlen(b) + 1); /* cJSON frees valuestring with free() (default hooks) */
        if (!raw) return 0;
        strcpy(raw, b);
        c->type = cJSON_Raw;
        c->valuestring = raw;
    }
    return 1;
}

hc_status hc_write_json_in(hc_outset *set, const char *path, const cJSON *doc)
{
    cJSON *exact = cJSON_Duplicate(doc, 1);
    char *s = exact && exact_numbers(exact) ? cJSON_Print(exact) : NULL;
    cJSON_Delete(exact);
    if (!s) return hc_fail(HC_ENOMEM, "out of memory printing %s", path);
    hc_outfile *f;
    hc_status st = hc_outfile_open_in(set, path, &f);
    if (st == HC_OK) {
        fputs(s, hc_outfile_fp(f));
        fputc('\n', hc_outfile_fp(f));
        st = hc_outfile_commit(f);
    }
    cJSON_free(s);
    return st;
}

/* ---- output sets ---- */

hc_status hc_outset_new(hc_outset **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? HC_OK : hc_fail(HC_ENOMEM, "out of memory");
}

/* mkdir dir (its parent exists); HC_EIO unless it then is a directory. */
static hc_status mkdir_one(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return hc_fail(HC_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return hc_fail(HC_EIO, "%s: exists and is not a directory", dir);
    return HC_OK;
}

hc_status hc_outset_tmp(hc_outset *set, const char *path, char *tmp, size_t n)
{
    int len;
    if (!set) {
        len = snprintf(tmp, n, "%s.partial", path);
        if (len < 0 || (size_t)len >= n) return hc_fail(HC_EINVAL, "%s: path too long", path);
        return HC_OK;
    }
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".", *name = slash ? slash + 1 : path;
    len = snprintf(tmp, n, "%.*s/" STAGING "/%s", dl, dir, name);
    if (len < 0 || (size_t)len >= n || !name[0]) return hc_fail(HC_EINVAL, "%s: path too long", path);
    char *sl = strrchr(tmp, '/');
    *sl = '\0'; /* tmp is the staging folder for now */
    hc_status st = HC_OK;
    int known = 0;
    for (int i = 0; i < set->n_staging && !known; i++) known = strcmp(set->staging[i], tmp) == 0;
    if (!known) {
        char **ns = realloc(set->staging, (size_t)(set->n_staging + 1) * sizeof *ns);
        if (!ns) st = hc_fail(HC_ENOMEM, "out of memory");
        if (ns) set->staging = ns;
        if (st == HC_OK) st = mkdir_one(tmp);
        if (st == HC_OK && !(ns[set->n_staging] = strdup(tmp))) st = hc_fail(HC_ENOMEM, "out of memory");
        if (st == HC_OK) set->n_staging++;
    }
    *sl = '/';
    return st;
}

hc_status hc_outset_add(hc_outset *set, const char *tmp, const char *path)
{
    if (!set) {
        if (rename(tmp, path) == 0) return HC_OK;
        hc_status st = hc_fail(HC_EIO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return st;
    }
    if (set->n == set->cap) {
        int cap = set->cap ? 2 * set->cap : 8;
        outset_member *m = realloc(set->m, (size_t)cap * sizeof *m);
        if (!m) {
            unlink(tmp);
            return hc_fail(HC_ENOMEM, "out of memory");
        }
        set->m = m;
        set->cap = cap;
    }
    outset_member *m = &set->m[set->n];
    m->tmp = strdup(tmp);
    m->path = strdup(path);
    if (!m->tmp || !m->path) {
        free(m->tmp);
        free(m->path);
        unlink(tmp);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    set->n++;
    return HC_OK;
}

/* Remove the staging folders (those still holding files stay) and free. */
static void outset_free(hc_outset *set)
{
    for (int i = 0; i < set->n; i++) {
        free(set->m[i].tmp);
        free(set->m[i].path);
    }
    for (int i = 0; i < set->n_staging; i++) {
        rmdir(set->staging[i]);
        free(set->staging[i]);
    }
    free(set->staging);
    free(set->m);
    free(set);
}

void hc_outset_abort(hc_outset *set)
{
    if (!set) return;
    for (int i = 0; i < set->n; i++) unlink(set->m[i].tmp);
    outset_free(set);
}

hc_status hc_outset_commit(hc_outset *set)
{
    if (!set) return HC_OK;
    hc_status st = HC_OK;
    for (int i = 0; i < set->n; i++) {
        if (rename(set->m[i].tmp, set->m[i].path) == 0) continue;
        int err = errno;
        char done[512] = "";
        for (int k = 0; k < i; k++) {
            size_t l = strlen(done);
            snprintf(done + l, sizeof done - l, "%s%s", k ? ", " : "", set->m[k].path);
        }
        st = hc_fail(HC_EIO, "%s: cannot rename to %s: %s (complete: %s)", set->m[i].tmp, set->m[i].path,
                     strerror(err), i ? done : "none");
        for (int k = i; k < set->n; k++) unlink(set->m[k].tmp);
        break;
    }
    outset_free(set);
    return st;
}

hc_status hc_outset_finish(hc_outset *set, hc_status st)
{
    if (st != HC_OK) {
        hc_outset_abort(set);
        return st;
    }
    return hc_outset_commit(set);
}

int hc_safe_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 128 || name[0] == '.') return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-' || *c == '.' || *c == '+'))
            return 0;
    return 1;
}

void hc_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

hc_status hc_mkdir_p(const char *dir)
{
    char buf[1024];
    if (!dir[0]) return hc_fail(HC_EINVAL, "empty output directory name");
    if (strlen(dir) >= sizeof buf) return hc_fail(HC_EINVAL, "%s: path too long", dir);
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            HC_TRY(mkdir_one(buf));
            *p = c;
            if (!c) break;
        }
    }
    return HC_OK;
}

hc_status hc_path_join(char *buf, size_t n, const char *dir, const char *name)
{
    int len = snprintf(buf, n, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= n) return hc_fail(HC_EINVAL, "%s/%s: path too long", dir, name);
    return HC_OK;
}

hc_status hc_read_text(const char *path, char **text, size_t *len)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n + 1 < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return hc_fail(HC_ENOMEM, "out of memory reading %s", path);
    if (err) {
        free(buf);
        return hc_fail(HC_EIO, "%s: read error", path);
    }
    buf[n] = 0;
    *text = buf;
    if (len) *len = n;
    return HC_OK;
}
