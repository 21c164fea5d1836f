/* dist_run.c: a run over several processes (dist.h, docs/cluster.md).
 *
 * Rank 0 coordinates: its pending cells become tasks (a live cell each;
 * the replay cells in one chunk per rank), ordered by estimated cost, most
 * expensive first, and handed out one at a time to whichever rank is idle
 * -- rank 0's own thread of computation included.  A live cell whose
 * reference is still pending waits for it; with the task goes the
 * reference's document and samples.h5, so the worker scores it exactly as
 * a resumed run does.  A worker computes into a scratch folder and sends
 * back each cell's document and the bytes of its raw files; rank 0 writes
 * them into DIR (raw files first, then cells/ID.json, each atomically) as
 * they arrive.  No file system is shared but the inputs' (config, model,
 * trajectories, data on every node).
 *
 * Messages (byte strings of little-endian int64s and length-prefixed
 * bytes; the ranks of one run share a byte order):
 *   task   (rank 0 -> worker, TAG_TASK):   "HCT1" n {cell, id}*n  m {cell, doc, samples.h5}*m
 *                                         (n = 0: stop)
 *   result (worker -> rank 0, TAG_RESULT): "HCR1" status message n {cell, doc, f {name, bytes}*f}*n */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dist.h"
#include "live.h"
#include "outfile.h"

enum { TAG_TASK = 1, TAG_RESULT = 2 };
#define MAGIC_TASK 0x31544348 /* "HCT1" */
#define MAGIC_RESULT 0x31524348 /* "HCR1" */

/* ---- a worker ---------------------------------------------------------------------------- */

typedef struct worker {
    hc_experiment *e;       /* its own copy of the experiment */
    char scratch[1024];     /* its DIR: raw outputs until they are sent */
    const char *out_dir;    /* rank 0's DIR: paths in documents name it */
    int rank;
} worker;

/* Remove DIR/raw/ID/ and the files in it. */
static void rm_raw(const char *dir, const char *id)
{
    char raw[1200], path[1500];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, id);
    DIR *d = opendir(raw);
    if (!d) return;
    for (struct dirent *de; (de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", raw, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(raw);
}

/* Every string that names a path under `from` names it under `to`. */
static void rewrite_paths(cJSON *x, const char *from, const char *to)
{
    size_t n = strlen(from);
    if (cJSON_IsString(x) && strncmp(x->valuestring, from, n) == 0 && (x->valuestring[n] == '/' || !x->valuestring[n])) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s%s", to, x->valuestring + n);
        cJSON_SetValuestring(x, buf);
    }
    for (cJSON *c = x->child; c; c = c->next) rewrite_paths(c, from, to);
}

/* A cell's document and its raw files into a result. */
static hc_status pack_cell(const worker *w, int idx, cJSON *doc, exp_buf *out)
{
    const exp_cell *c = &w->e->cells[idx];
    rewrite_paths(doc, w->scratch, w->out_dir);
    exp_put_i64(out, idx);
    exp_put_doc(out, doc);
    char raw[1200], path[1500];
    snprintf(raw, sizeof raw, "%s/raw/%s", w->scratch, c->id);
    const char *names[64];
    int nf = 0;
    DIR *d = opendir(raw);
    struct dirent *de;
    hc_status s = HC_OK;
    while (d && (de = readdir(d)) && s == HC_OK) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", raw, de->d_name);
        if (de->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (nf == 64) s = hc_fail(HC_EINVAL, "%s: more than 64 output files", raw);
        else if (!(names[nf] = strdup(de->d_name))) s = hc_fail(HC_ENOMEM, "out of memory");
        else nf++;
    }
    if (d) closedir(d);
    exp_put_i64(out, nf);
    for (int i = 0; i < nf; i++) {
        char *bytes = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", raw, names[i]);
        if (s == HC_OK) s = hc_read_text(path, &bytes, &len);
        if (s == HC_OK) {
            exp_put_bytes(out, names[i], strlen(names[i]));
            exp_put_bytes(out, bytes, len);
        }
        free(bytes);
        free((void *)names[i]);
    }
    if (s == HC_OK && out->bad) s = hc_fail(HC_ENOMEM, "out of memory");
    return s;
}

/* A reference's document and samples, as a resumed run finds them. */
static hc_status take_reference(worker *w, exp_buf *in)
{
    int64_t idx = exp_get_i64(in);
    cJSON *doc = exp_get_doc(in);
    size_t n;
    const unsigned char *bytes = exp_get_bytes(in, &n);
    hc_status s = HC_OK;
    if (in->bad || !doc || idx < 0 || idx >= w->e->n_cells) s = hc_fail(HC_EFORMAT, "a malformed task message");
    exp_cell *q = s == HC_OK ? &w->e->cells[idx] : NULL;
    char raw[1200], path[1300];
    if (s == HC_OK) {
        snprintf(raw, sizeof raw, "%s/raw/%s", w->scratch, q->id);
        snprintf(path, sizeof path, "%s/samples.h5", raw);
        s = hc_mkdir_p(raw);
    }
    if (s == HC_OK) {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(bytes, 1, n, f) != n) s = hc_fail(HC_EIO, "%s: cannot write", path);
        if (f && fclose(f) != 0 && s == HC_OK) s = hc_fail(HC_EIO, "%s: cannot write", path);
    }
    if (s == HC_OK) {
        cJSON_Delete(q->doc);
        q->doc = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    return s;
}

/* Compute the cells of a task; their documents (or the error) into out. */
static hc_status run_task(worker *w, exp_buf *in, exp_cell **batch, cJSON **docs, int *nb, exp_buf *out)
{
    hc_experiment *e = w->e;
    int64_t n = exp_get_i64(in);
    if (in->bad || n < 1 || n > e->n_cells) return hc_fail(HC_EFORMAT, "a malformed task message");
    for (int64_t k = 0; k < n; k++) {
        int64_t idx = exp_get_i64(in);
        char *id = exp_get_str(in);
        int ok = !in->bad && id && idx >= 0 && idx < e->n_cells && strcmp(e->cells[idx].id, id) == 0;
        free(id);
        if (!ok)
            return hc_fail(HC_EINVAL, "cell %lld is not the same cell on rank %d as on rank 0: the config (or its "
                           "trajectory files) differ between the nodes", (long long)idx, w->rank);
        batch[(*nb)++] = &e->cells[idx];
    }
    for (int64_t m = exp_get_i64(in), k = 0; k < m && !in->bad; k++) HC_TRY(take_reference(w, in));
    for (int k = 0; k < n; k++) docs[k] = exp_cell_header(e, batch[k]);
    double t1 = exp_now();
    hc_status s = batch[0]->eng == HC_ENG_LIVE ? exp_run_live(e, w->scratch, batch[0], docs[0])
                                               : exp_run_replay(e, w->scratch, batch, (int)n, docs);
    if (s != HC_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", hc_errmsg());
        return hc_fail(s, "cell %s (%s): %s", batch[0]->id, batch[0]->label, msg);
    }
    double dt = (exp_now() - t1) / (double)n; /* a batch's cells share its time */
    exp_put_i64(out, n);
    for (int k = 0; k < n && s == HC_OK; k++) {
        exp_cell_stamp(docs[k], dt);
        s = pack_cell(w, (int)(batch[k] - e->cells), docs[k], out);
    }
    return s;
}

/* A task in, its result out; the worker's state cleared for the next. */
static void worker_task(worker *w, exp_buf *in, exp_buf *out)
{
    hc_experiment *e = w->e;
    exp_cell **batch = calloc((size_t)e->n_cells + 1, sizeof *batch);
    cJSON **docs = calloc((size_t)e->n_cells + 1, sizeof *docs);
    exp_buf body = {0};
    int nb = 0;
    hc_status s = batch && docs ? run_task(w, in, batch, docs, &nb, &body) : hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK && body.bad) s = hc_fail(HC_ENOMEM, "out of memory");
    exp_put_i64(out, MAGIC_RESULT);
    exp_put_i64(out, s);
    const char *msg = s == HC_OK ? "" : hc_errmsg();
    exp_put_bytes(out, msg, strlen(msg));
    if (s == HC_OK) exp_put(out, body.p, body.n);
    else exp_put_i64(out, 0);
    exp_buf_free(&body);
    for (int k = 0; k < nb; k++) cJSON_Delete(docs[k]);
    for (int k = 0; k < nb; k++) rm_raw(w->scratch, batch[k]->id);
    for (int i = 0; i < e->n_cells; i++) { /* references and cells of the task */
        exp_cell *c = &e->cells[i];
        if (!c->doc && !c->samples) continue;
        rm_raw(w->scratch, c->id);
        cJSON_Delete(c->doc);
        c->doc = NULL;
        hc_live_ref_free(c->samples);
        c->samples = NULL;
    }
    free(batch);
    free(docs);
}

static hc_status worker_open(worker *w, hc_experiment *e, const char *out_dir, int rank)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    w->out_dir = out_dir;
    w->rank = rank;
    const char *tmp = getenv("TMPDIR");
    snprintf(w->scratch, sizeof w->scratch, "%s/hicache-rank%d-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", rank);
    if (!mkdtemp(w->scratch)) return hc_fail(HC_EIO, "rank %d: cannot create a scratch folder %s", rank, w->scratch);
    return HC_OK;
}

static void worker_close(worker *w)
{
    char raw[1100];
    snprintf(raw, sizeof raw, "%s/raw", w->scratch);
    rmdir(raw);
    rmdir(w->scratch);
}

/* An error result for every task until stop. */
static void refuse(const hc_exp_comm *comm, const char *msg)
{
    for (;;) {
        void *p = NULL;
        size_t n = 0;
        int got = 0, src;
        if (comm->recv(comm->ctx, 0, TAG_TASK, 1, &got, &p, &n, &src) != HC_OK || !got) return;
        exp_buf in = {p, n, n, 0, 0}, out = {0};
        int stop = exp_get_i64(&in) != MAGIC_TASK || exp_get_i64(&in) == 0;
        free(p);
        if (stop) return;
        exp_put_i64(&out, MAGIC_RESULT);
        exp_put_i64(&out, HC_EINVAL);
        exp_put_bytes(&out, msg, strlen(msg));
        exp_put_i64(&out, 0);
        hc_status s = comm->send(comm->ctx, 0, TAG_RESULT, out.p, out.n);
        exp_buf_free(&out);
        if (s != HC_OK) return;
    }
}

void hc_experiment_comm_refuse(const hc_exp_comm *comm, const char *msg)
{
    if (comm && comm->rank > 0) refuse(comm, msg);
}

hc_status exp_dist_work(hc_experiment *e, const hc_exp_comm *comm, const char *out_dir)
{
    worker w;
    hc_status s = worker_open(&w, e, out_dir, comm->rank);
    if (s != HC_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", hc_errmsg());
        refuse(comm, msg);
        return hc_fail(s, "%s", msg);
    }
    for (;;) {
        void *p = NULL;
        size_t n = 0;
        int got = 0, src;
        if ((s = comm->recv(comm->ctx, 0, TAG_TASK, 1, &got, &p, &n, &src)) != HC_OK || !got) break;
        exp_buf in = {p, n, n, 0, 0}, out = {0};
        int stop = exp_get_i64(&in) != MAGIC_TASK || exp_get_i64(&in) == 0; /* n = 0: stop */
        in.at = 8;
        if (stop) {
            free(p);
            break;
        }
        worker_task(&w, &in, &out);
        free(p);
        s = out.bad ? hc_fail(HC_ENOMEM, "out of memory") : comm->send(comm->ctx, 0, TAG_RESULT, out.p, out.n);
        exp_buf_free(&out);
        if (s != HC_OK) break;
    }
    worker_close(&w);
    return s;
}

void exp_dist_release(const hc_exp_comm *comm)
{
    exp_buf b = {0};
    exp_put_i64(&b, MAGIC_TASK);
    exp_put_i64(&b, 0);
    for (int r = 1; r < comm->size && !b.bad; r++) comm->send(comm->ctx, r, TAG_TASK, b.p, b.n);
    exp_buf_free(&b);
}

void hc_experiment_comm_release(const hc_exp_comm *comm)
{
    if (comm && comm->rank == 0 && comm->size > 1) exp_dist_release(comm);
}

/* ---- rank 0's own computation: a worker in a thread, tasks through a mailbox ---------- */

typedef struct mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    exp_buf task, result;
    int has_task, has_result;
    worker w;
} mailbox;

static void *local_worker(void *arg)
{
    mailbox *mb = arg;
    for (;;) {
        pthread_mutex_lock(&mb->mu);
        while (!mb->has_task) pthread_cond_wait(&mb->cv, &mb->mu);
        exp_buf in = mb->task;
        memset(&mb->task, 0, sizeof mb->task);
        mb->has_task = 0;
        pthread_mutex_unlock(&mb->mu);
        int stop = exp_get_i64(&in) != MAGIC_TASK || exp_get_i64(&in) == 0;
        in.at = 8;
        exp_buf out = {0};
        if (!stop) worker_task(&mb->w, &in, &out);
        exp_buf_free(&in);
        if (stop) return NULL;
        pthread_mutex_lock(&mb->mu);
        mb->result = out;
        mb->has_result = 1;
        pthread_mutex_unlock(&mb->mu);
    }
}

/* ---- the coordinator ---------------------------------------------------------------------- */

typedef struct task {
    int first, n;  /* cells tc[first .. first+n-1] */
    double cost;
    int state;     /* 0 queued, 1 running, 2 done */
} task;

typedef struct coord {
    exp_run_state *rs;
    const hc_exp_comm *comm;
    int *tc, *cell_task; /* cells of the tasks; each cell's task (-1: none) */
    int *ref;            /* each cell's reference (exp_cell_references) */
    task *tasks;
    int n_tasks, running;
    int *busy;           /* per rank: its task, -1 idle */
    mailbox mb;
    hc_status st;        /* the first error */
    char err[1024];
} coord;

static int by_task_cost(const void *a, const void *b)
{
    const task *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return x->first - y->first;
}

/* Pending cells into tasks (at most max_cells cells, in cell order, as a
 * serial run takes them), most expensive first. */
static hc_status make_tasks(coord *k)
{
    const hc_experiment *e = k->rs->e;
    int max = k->rs->o->max_cells, n_rep = 0, n = 0;
    k->tc = malloc(((size_t)e->n_cells + 1) * sizeof *k->tc);
    k->cell_task = malloc(((size_t)e->n_cells + 1) * sizeof *k->cell_task);
    k->tasks = calloc((size_t)e->n_cells + 1, sizeof *k->tasks);
    k->busy = malloc((size_t)k->comm->size * sizeof *k->busy);
    if (!k->tc || !k->cell_task || !k->tasks || !k->busy) return hc_fail(HC_ENOMEM, "out of memory");
    HC_TRY(exp_cell_references(e, &k->ref));
    for (int r = 0; r < k->comm->size; r++) k->busy[r] = -1;
    for (int i = 0; i < e->n_cells; i++) {
        k->cell_task[i] = -1;
        if (e->cells[i].doc || (max > 0 && n >= max)) continue;
        n++;
        n_rep += e->cells[i].eng == HC_ENG_REPLAY;
    }
    int chunks = n_rep < k->comm->size ? n_rep : k->comm->size, at = 0;
    for (int ch = 0; ch < chunks; ch++) { /* replay: cells ch, ch + chunks, ... */
        task *t = &k->tasks[k->n_tasks];
        t->first = at;
        for (int i = 0, r = 0; i < e->n_cells && r < n_rep; i++) {
            if (e->cells[i].doc || e->cells[i].eng != HC_ENG_REPLAY) continue;
            if (r++ % chunks == ch) k->tc[at++] = i, t->cost += exp_cell_cost(e, &e->cells[i]);
        }
        t->n = at - t->first;
        k->n_tasks++;
    }
    for (int i = 0, m = 0; i < e->n_cells && m < n; i++) {
        if (e->cells[i].doc) continue;
        m++;
        if (e->cells[i].eng != HC_ENG_LIVE) continue;
        k->tasks[k->n_tasks] = (task){at, 1, exp_cell_cost(e, &e->cells[i]), 0};
        k->tc[at++] = i;
        k->n_tasks++;
    }
    qsort(k->tasks, (size_t)k->n_tasks, sizeof *k->tasks, by_task_cost);
    for (int t = 0; t < k->n_tasks; t++)
        for (int j = 0; j < k->tasks[t].n; j++) k->cell_task[k->tc[k->tasks[t].first + j]] = t;
    return HC_OK;
}

/* The first queued task whose cells' references are not pending. */
static int next_ready(const coord *k)
{
    const hc_experiment *e = k->rs->e;
    for (int t = 0; t < k->n_tasks; t++) {
        if (k->tasks[t].state != 0) continue;
        int ready = 1;
        for (int j = 0; j < k->tasks[t].n && ready; j++) {
            int r = k->ref[k->tc[k->tasks[t].first + j]];
            ready = r < 0 || e->cells[r].doc || k->cell_task[r] < 0;
        }
        if (ready) return t;
    }
    return -1;
}

/* The task message of task t: its cells, and the finished references of
 * its live cells with their samples.h5. */
static hc_status pack_task(const coord *k, int t, exp_buf *b)
{
    const hc_experiment *e = k->rs->e;
    const task *tk = &k->tasks[t];
    exp_put_i64(b, MAGIC_TASK);
    exp_put_i64(b, tk->n);
    int refs[1] = {-1};
    for (int j = 0; j < tk->n; j++) {
        const exp_cell *c = &e->cells[k->tc[tk->first + j]];
        exp_put_i64(b, k->tc[tk->first + j]);
        exp_put_bytes(b, c->id, strlen(c->id));
        int r = k->ref[k->tc[tk->first + j]];
        if (tk->n == 1 && r >= 0 && e->cells[r].doc) refs[0] = r;
    }
    char path[1300], *bytes = NULL;
    size_t len = 0;
    if (refs[0] >= 0) {
        snprintf(path, sizeof path, "%s/raw/%s/samples.h5", k->rs->dir, e->cells[refs[0]].id);
        if (access(path, R_OK) != 0 || hc_read_text(path, &bytes, &len) != HC_OK) refs[0] = -1; /* sampled there */
        hc_errclear();
    }
    exp_put_i64(b, refs[0] >= 0);
    if (refs[0] >= 0) {
        exp_put_i64(b, refs[0]);
        exp_put_doc(b, e->cells[refs[0]].doc);
        exp_put_bytes(b, bytes, len);
    }
    free(bytes);
    return b->bad ? hc_fail(HC_ENOMEM, "out of memory") : HC_OK;
}

static hc_status dispatch(coord *k, int rank, int t)
{
    exp_buf b = {0};
    hc_status s = pack_task(k, t, &b);
    if (s == HC_OK && rank == 0) {
        pthread_mutex_lock(&k->mb.mu);
        k->mb.task = b;
        k->mb.has_task = 1;
        pthread_cond_signal(&k->mb.cv);
        pthread_mutex_unlock(&k->mb.mu);
        memset(&b, 0, sizeof b);
    } else if (s == HC_OK) {
        s = k->comm->send(k->comm->ctx, rank, TAG_TASK, b.p, b.n);
    }
    exp_buf_free(&b);
    if (s != HC_OK) return s;
    k->tasks[t].state = 1;
    k->busy[rank] = t;
    k->running++;
    return HC_OK;
}

/* A worker's files of cell c into DIR/raw/ID/, together (an output set). */
static hc_status write_raw(coord *k, const exp_cell *c, exp_buf *in)
{
    char raw[1200], path[1500];
    snprintf(raw, sizeof raw, "%s/raw/%s", k->rs->dir, c->id);
    int64_t nf = exp_get_i64(in);
    hc_outset *set = NULL;
    hc_status s = nf > 0 ? hc_mkdir_p(raw) : HC_OK;
    if (s == HC_OK && nf > 0) s = hc_outset_new(&set);
    for (int64_t i = 0; i < nf && s == HC_OK; i++) {
        char *name = exp_get_str(in);
        size_t n;
        const unsigned char *bytes = exp_get_bytes(in, &n);
        hc_outfile *f = NULL;
        if (in->bad || !name || !hc_safe_name(name)) s = hc_fail(HC_EFORMAT, "cell %s: a malformed result message", c->id);
        else if (snprintf(path, sizeof path, "%s/%s", raw, name) >= (int)sizeof path)
            s = hc_fail(HC_EINVAL, "%s/%s: path too long", raw, name);
        else if ((s = hc_outfile_open_in(set, path, &f)) == HC_OK) {
            if (n && fwrite(bytes, 1, n, hc_outfile_fp(f)) != n) {
                hc_outfile_abort(f);
                s = hc_fail(HC_EIO, "%s: cannot write", path);
            } else {
                s = hc_outfile_commit(f);
            }
        }
        free(name);
    }
    return set ? hc_outset_finish(set, s) : s;
}

static void fail_first(coord *k, hc_status s, int rank)
{
    if (k->st != HC_OK) return;
    k->st = s;
    snprintf(k->err, sizeof k->err, "%s (on rank %d)", hc_errmsg(), rank);
}

/* A result from `rank`: its cells written and recorded, or its error kept. */
static void take_result(coord *k, int rank, exp_buf *in)
{
    hc_experiment *e = k->rs->e;
    int t = k->busy[rank];
    k->busy[rank] = -1;
    k->running--;
    if (t >= 0) k->tasks[t].state = 2;
    int64_t magic = exp_get_i64(in), st = exp_get_i64(in);
    char *msg = exp_get_str(in);
    int64_t n = exp_get_i64(in);
    hc_status s = HC_OK;
    if (in->bad || magic != MAGIC_RESULT || t < 0 || !msg) s = hc_fail(HC_EFORMAT, "a malformed result message");
    else if (st != HC_OK) s = hc_fail((hc_status)st, "%s", msg);
    char where[32];
    snprintf(where, sizeof where, " (rank %d)", rank);
    for (int64_t j = 0; j < n && s == HC_OK; j++) {
        int64_t idx = exp_get_i64(in);
        cJSON *doc = exp_get_doc(in);
        if (in->bad || idx < 0 || idx >= e->n_cells || k->cell_task[idx] != t || !doc) {
            cJSON_Delete(doc);
            s = hc_fail(HC_EFORMAT, "a malformed result message");
            break;
        }
        exp_cell *c = &e->cells[idx];
        s = write_raw(k, c, in);
        if (s == HC_OK) s = exp_record_cell(k->rs, c, doc, where);
        else cJSON_Delete(doc);
    }
    free(msg);
    if (s != HC_OK) fail_first(k, s, rank);
}

/* Look for a result once (from a worker rank or rank 0's thread). */
static int poll_results(coord *k)
{
    void *p = NULL;
    size_t n = 0;
    int got = 0, src = -1;
    hc_status s = k->comm->recv(k->comm->ctx, -1, TAG_RESULT, 0, &got, &p, &n, &src);
    if (s != HC_OK) {
        fail_first(k, s, 0);
        return 0;
    }
    if (got && src > 0 && src < k->comm->size) {
        exp_buf in = {p, n, n, 0, 0};
        take_result(k, src, &in);
    }
    free(p);
    if (got) return 1;
    pthread_mutex_lock(&k->mb.mu);
    exp_buf in = k->mb.result;
    int has = k->mb.has_result;
    memset(&k->mb.result, 0, sizeof k->mb.result);
    k->mb.has_result = 0;
    pthread_mutex_unlock(&k->mb.mu);
    if (!has) return 0;
    take_result(k, 0, &in);
    exp_buf_free(&in);
    return 1;
}

/* Rank 0's worker: its own copy of the experiment and a scratch folder. */
static hc_status local_start(coord *k, pthread_t *th)
{
    const hc_experiment *e = k->rs->e;
    char *text = cJSON_PrintUnformatted(e->config);
    hc_experiment *copy = NULL;
    hc_status s = text ? hc_experiment_parse(text, e->origin, &copy) : hc_fail(HC_ENOMEM, "out of memory");
    free(text);
    if (s == HC_OK && copy->n_cells != e->n_cells) s = hc_fail(HC_EINVAL, "%s: the config parses differently", e->origin);
    if (s == HC_OK) s = worker_open(&k->mb.w, copy, k->rs->dir, 0);
    if (s == HC_OK && pthread_create(th, NULL, local_worker, &k->mb) != 0) {
        worker_close(&k->mb.w);
        s = hc_fail(HC_ENOMEM, "cannot start a thread");
    }
    if (s != HC_OK) hc_experiment_free(copy);
    return s;
}

static void local_stop(coord *k, pthread_t th)
{
    exp_buf b = {0};
    exp_put_i64(&b, MAGIC_TASK);
    exp_put_i64(&b, 0);
    pthread_mutex_lock(&k->mb.mu);
    exp_buf_free(&k->mb.task);
    k->mb.task = b;
    k->mb.has_task = 1;
    pthread_cond_signal(&k->mb.cv);
    pthread_mutex_unlock(&k->mb.mu);
    pthread_join(th, NULL);
    exp_buf_free(&k->mb.result);
    worker_close(&k->mb.w);
    hc_experiment_free(k->mb.w.e);
}

hc_status exp_dist_coordinate(exp_run_state *rs)
{
    coord k = {.rs = rs, .comm = rs->o->comm};
    pthread_mutex_init(&k.mb.mu, NULL);
    pthread_cond_init(&k.mb.cv, NULL);
    if (rs->pm == HC_PROGRESS_BAR) rs->pm = HC_PROGRESS_LINES; /* results arrive out of order */
    pthread_t th;
    hc_status s = make_tasks(&k);
    int started = s == HC_OK && (s = local_start(&k, &th)) == HC_OK;
    while (s == HC_OK) {
        for (int r = 0; r < k.comm->size && k.st == HC_OK; r++) {
            int t = k.busy[r] < 0 ? next_ready(&k) : -1;
            hc_status ds = t >= 0 ? dispatch(&k, r, t) : HC_OK;
            if (ds != HC_OK) fail_first(&k, ds, 0);
        }
        if (!k.running) break; /* all done, or stopped by an error */
        if (!poll_results(&k)) {
            struct timespec ts = {0, 2000000}; /* 2 ms */
            nanosleep(&ts, NULL);
        }
    }
    if (started) local_stop(&k, th);
    if (s == HC_OK && k.st != HC_OK) s = hc_fail(k.st, "%s", k.err);
    pthread_mutex_destroy(&k.mb.mu);
    pthread_cond_destroy(&k.mb.cv);
    free(k.tc);
    free(k.cell_task);
    free(k.ref);
    free(k.tasks);
    free(k.busy);
    return s;
}
