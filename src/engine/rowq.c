/* rowq.c: rows read ahead by a reader thread (rowq.h). */
#include "rowq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    float *row;
    size_t bad;
    hc_status st;       /* of the read; msg holds its message */
    char msg[1024];
    int full;           /* read, not yet handed out and released */
} slot;

struct hc_rowq {
    hc_traj *t;
    size_t *ents, n;
    int steps, threaded;
    size_t total, next_read, next_give; /* row counters: k = entry * steps + step */
    slot s[HC_ROWQ_MAX_SLOTS];
    int n_slots;        /* rows read ahead at most, threaded (1: serial) */
    int held;           /* the slot the caller holds (-1 none) */
    int stop, started;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Row k into slot sl (whichever thread runs the queue's reads). */
static void read_into(hc_rowq *q, size_t k, slot *sl)
{
    size_t e = q->ents[k / (size_t)q->steps];
    int64_t step = (int64_t)(k % (size_t)q->steps);
    sl->bad = 0;
    sl->st = hc_traj_read_row_counted(q->t, e, step, sl->row, &sl->bad);
    if (sl->st != HC_OK) snprintf(sl->msg, sizeof sl->msg, "%s", hc_errmsg());
}

static void *reader(void *arg)
{
    hc_rowq *q = arg;
    hc_init_thread();
    for (size_t k = 0; k < q->total; k++) {
        slot *sl = &q->s[k % (size_t)q->n_slots];
        pthread_mutex_lock(&q->mu);
        while (sl->full && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop) break;
        read_into(q, k, sl); /* slot k % n_slots is ours: the caller is done with it */
        pthread_mutex_lock(&q->mu);
        sl->full = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        if (sl->st != HC_OK) break;
    }
    hc_end_thread();
    return NULL;
}

hc_status hc_rowq_open(hc_traj *t, const size_t *entries, size_t n, int steps, size_t row_max, int threaded,
                       hc_rowq **out)
{
    *out = NULL;
    hc_rowq *q = calloc(1, sizeof *q);
    if (!q) return hc_fail(HC_ENOMEM, "out of memory");
    q->t = t;
    q->n = n;
    q->steps = steps;
    q->threaded = threaded;
    q->total = n * (size_t)steps;
    q->held = -1;
    q->ents = malloc((n + 1) * sizeof *q->ents);
    q->n_slots = threaded ? hc_rowq_slots() : 1;
    int ok = q->ents != NULL;
    for (int k = 0; k < q->n_slots; k++) ok = ok && (q->s[k].row = malloc((row_max + 1) * sizeof(float))) != NULL;
    if (!ok) {
        int slots = q->n_slots;
        hc_rowq_close(q);
        return hc_fail(HC_ENOMEM, "out of memory for %d rows of %zu floats", slots, row_max);
    }
    if (n) memcpy(q->ents, entries, n * sizeof *entries);
    if (threaded) {
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->cv, NULL);
        q->started = 1;
        if (pthread_create(&q->th, NULL, reader, q) != 0) {
            q->started = 0;
            q->threaded = 0; /* no thread: read in the caller's */
        }
    }
    *out = q;
    return HC_OK;
}

hc_status hc_rowq_next(hc_rowq *q, const float **row, size_t *n_nonfinite)
{
    *row = NULL;
    *n_nonfinite = 0;
    if (q->next_give >= q->total) return hc_fail(HC_EINVAL, "rowq: read past the last of %zu rows", q->total);
    slot *sl;
    if (!q->started) {
        sl = &q->s[0];
        read_into(q, q->next_give, sl);
    } else {
        pthread_mutex_lock(&q->mu);
        if (q->held >= 0) { /* hand the previous row's buffer back to the reader */
            q->s[q->held].full = 0;
            q->held = -1;
            pthread_cond_broadcast(&q->cv);
        }
        sl = &q->s[q->next_give % (size_t)q->n_slots];
        while (!sl->full) pthread_cond_wait(&q->cv, &q->mu);
        q->held = (int)(q->next_give % (size_t)q->n_slots);
        pthread_mutex_unlock(&q->mu);
    }
    q->next_give++;
    if (sl->st != HC_OK) {
        q->next_give = q->total; /* the reader has stopped */
        return hc_fail(sl->st, "%s", sl->msg);
    }
    *row = sl->row;
    *n_nonfinite = sl->bad;
    return HC_OK;
}

void hc_rowq_close(hc_rowq *q)
{
    if (!q) return;
    if (q->started) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->th, NULL);
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->cv);
    }
    free(q->ents);
    for (int k = 0; k < HC_ROWQ_MAX_SLOTS; k++) free(q->s[k].row);
    free(q);
}

int hc_rowq_slots(void)
{
    const char *e = getenv("HC_REPLAY_QUEUE");
    long k = e && *e ? strtol(e, NULL, 10) : 2;
    return k < 2 ? 2 : k > HC_ROWQ_MAX_SLOTS ? HC_ROWQ_MAX_SLOTS : (int)k;
}

int hc_rowq_default_threaded(void)
{
    const char *e = getenv("HC_REPLAY_SERIAL");
    return !(e && *e && strcmp(e, "0") != 0);
}
