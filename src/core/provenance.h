/* provenance.h: what produced an output.  Every result file embeds this
 * object: hicache version, git commit, compiler, OpenBLAS (config, core,
 * threads), HDF5 and GSL versions, host, UTC time. */
#ifndef HC_PROVENANCE_H
#define HC_PROVENANCE_H

#include <cjson/cJSON.h>

/* A new cJSON object (caller frees with cJSON_Delete); NULL on OOM. */
cJSON *hc_provenance_json(void);

/* The same as a compact JSON string (caller frees with free()); NULL on OOM. */
char *hc_provenance_string(void);

/* Version of this build, e.g. "0.1.0". */
const char *hc_version(void);

/* Git commit of this build ("unknown" outside a checkout). */
const char *hc_git_commit(void);

#endif
