/* provenance.c: build and library identification for every output. */
#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>

#include "gitrev.h"

const char *hc_version(void) { return HC_VERSION; }
const char *hc_git_commit(void) { return HC_GIT_COMMIT; }

cJSON *hc_provenance_json(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char buf[256];
    cJSON_AddStringToObject(o, "hicache_version", HC_VERSION);
    cJSON_AddStringToObject(o, "git_commit", HC_GIT_COMMIT);
#if defined(__clang__)
    snprintf(buf, sizeof buf, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(buf, sizeof buf, "gcc %s", __VERSION__);
#else
    snprintf(buf, sizeof buf, "unknown");
#endif
    cJSON_AddStringToObject(o, "compiler", buf);
    cJSON *ob = cJSON_AddObjectToObject(o, "openblas");
    if (ob) {
        cJSON_AddStringToObject(ob, "config", openblas_get_config());
        cJSON_AddStringToObject(ob, "core", openblas_get_corename());
        cJSON_AddNumberToObject(ob, "threads", openblas_get_num_threads());
    }
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
    cJSON_AddStringToObject(o, "hdf5", buf);
    cJSON_AddStringToObject(o, "gsl", gsl_version);
    cJSON_AddStringToObject(o, "cjson", cJSON_Version());
    if (gethostname(buf, sizeof buf) == 0) {
        buf[sizeof buf - 1] = '\0';
        cJSON_AddStringToObject(o, "host", buf);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, "time_utc", buf);
    return o;
}

char *hc_provenance_string(void)
{
    cJSON *o = hc_provenance_json();
    if (!o) return NULL;
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
