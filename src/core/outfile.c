/* outfile.c: atomic result files (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hc_outfile {
    FILE *fp;
    char path[1024];
    char tmp[1040];
};

hc_status hc_outfile_open(const char *path, hc_outfile **out)
{
    *out = NULL;
    hc_outfile *f = calloc(1, sizeof *f);
    if (!f) return hc_fail(HC_ENOMEM, "out of memory");
    if (strlen(path) >= sizeof f->path) {
        free(f);
        return hc_fail(HC_EINVAL, "%s: path too long", path);
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.partial", path);
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
        st = hc_fail(HC_EIO, "%s: write failed: %s", f->tmp, strerror(errno));
        unlink(f->tmp);
    } else if (rename(f->tmp, f->path) != 0) {
        st = hc_fail(HC_EIO, "%s: cannot rename to %s: %s", f->tmp, f->path, strerror(errno));
        unlink(f->tmp);
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

hc_status hc_write_text(const char *path, const char *text)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open(path, &f));
    fputs(text, hc_outfile_fp(f));
    return hc_outfile_commit(f);
}

hc_status hc_write_json(const char *path, const cJSON *doc)
{
    char *s = cJSON_Print(doc);
    if (!s) return hc_fail(HC_ENOMEM, "out of memory printing %s", path);
    hc_outfile *f;
    hc_status st = hc_outfile_open(path, &f);
    if (st == HC_OK) {
        fputs(s, hc_outfile_fp(f));
        fputc('\n', hc_outfile_fp(f));
        st = hc_outfile_commit(f);
    }
    cJSON_free(s);
    return st;
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
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return hc_fail(HC_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
            struct stat sb;
            if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
                return hc_fail(HC_EIO, "%s: exists and is not a directory", buf);
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
