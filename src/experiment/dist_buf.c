/* dist_buf.c: the byte strings of dist_run.c's messages (dist.h). */
#include <stdlib.h>
#include <string.h>

#include "dist.h"


void exp_put(exp_buf *b, const void *x, size_t n)
{
    if (b->bad) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, x, n);
    b->n += n;
}

void exp_put_i64(exp_buf *b, int64_t v) { exp_put(b, &v, sizeof v); }

void exp_put_bytes(exp_buf *b, const void *x, size_t n)
{
    exp_put_i64(b, (int64_t)n);
    exp_put(b, x, n);
}

int64_t exp_get_i64(exp_buf *b)
{
    int64_t v = 0;
    if (b->bad || b->n - b->at < sizeof v) {
        b->bad = 1;
        return 0;
    }
    memcpy(&v, b->p + b->at, sizeof v);
    b->at += sizeof v;
    return v;
}

/* Length-prefixed bytes, in place (not NUL-terminated). */
const unsigned char *exp_get_bytes(exp_buf *b, size_t *n)
{
    int64_t len = exp_get_i64(b);
    if (b->bad || len < 0 || (uint64_t)len > b->n - b->at) {
        b->bad = 1;
        *n = 0;
        return NULL;
    }
    const unsigned char *p = b->p + b->at;
    b->at += (size_t)len;
    *n = (size_t)len;
    return p;
}

/* The same as a malloc'ed string. */
char *exp_get_str(exp_buf *b)
{
    size_t n;
    const unsigned char *p = exp_get_bytes(b, &n);
    char *s = p ? malloc(n + 1) : NULL;
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static void put_numbers(exp_buf *b, const cJSON *x)
{
    if (cJSON_IsNumber(x)) exp_put(b, &x->valuedouble, sizeof x->valuedouble);
    for (const cJSON *c = x->child; c; c = c->next) put_numbers(b, c);
}

static int count_numbers(const cJSON *x)
{
    int n = cJSON_IsNumber(x);
    for (const cJSON *c = x->child; c; c = c->next) n += count_numbers(c);
    return n;
}

static void get_numbers(exp_buf *b, cJSON *x)
{
    if (cJSON_IsNumber(x) && !b->bad) {
        double v = 0;
        if (b->n - b->at < sizeof v) b->bad = 1;
        else memcpy(&v, b->p + b->at, sizeof v), b->at += sizeof v;
        cJSON_SetNumberValue(x, v);
    }
    for (cJSON *c = x->child; c; c = c->next) get_numbers(b, c);
}

/* A JSON document, its numbers exactly: JSON text prints them to 15
 * digits when that reads back within an epsilon, so their doubles follow
 * the text, in document order. */
void exp_put_doc(exp_buf *b, const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) {
        b->bad = 1;
        return;
    }
    exp_put_bytes(b, text, strlen(text));
    free(text);
    exp_put_i64(b, count_numbers(doc));
    put_numbers(b, doc);
}

cJSON *exp_get_doc(exp_buf *b)
{
    char *text = exp_get_str(b);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    int64_t n = exp_get_i64(b);
    if (doc && !b->bad && n == count_numbers(doc)) get_numbers(b, doc);
    else b->bad = 1;
    if (b->bad) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

void exp_buf_free(exp_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

