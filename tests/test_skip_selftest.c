/* test_skip_selftest.c: the skip machinery of testutil.h does what CTest
 * needs.  The program re-runs itself (/proc/self/exe) with
 * HC_SKIP_SELFTEST_MODE set, where it runs a small group of tests that pass,
 * skip, fail or miss a dependency, and checks each child's exit status and
 * output: a skip alone gives 77 (CTest's SKIP_RETURN_CODE), a skip with a
 * failure gives 1, a missing declared dependency fails naming it unless
 * HC_ALLOW_MISSING_DEPS=1 (exactly "1") makes it a skip.  It also checks that
 * every test source skips only through HC_SKIP / HC_MISSING_DEP and returns
 * HC_RUN_TESTS, so no skip can pass silently as a success. */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* ---- the child: one group per mode ---------------------------------------------------- */

static void passes(void **state) { (void)state; }
static void skips(void **state) { (void)state; HC_SKIP("self-test skip"); }
static void fails(void **state) { (void)state; fail_msg("self-test failure"); }
static void misses_dep(void **state)
{
    (void)state;
    HC_MISSING_DEP("selftest-package (/nonexistent/selftest)");
}

static int child(const char *mode)
{
    const struct CMUnitTest pass[] = {cmocka_unit_test(passes)};
    const struct CMUnitTest skip1[] = {cmocka_unit_test(passes), cmocka_unit_test(skips)};
    const struct CMUnitTest skip_fail[] = {cmocka_unit_test(skips), cmocka_unit_test(fails)};
    const struct CMUnitTest dep[] = {cmocka_unit_test(passes), cmocka_unit_test(misses_dep)};
    if (strcmp(mode, "pass") == 0) return HC_RUN_TESTS(pass, NULL, NULL);
    if (strcmp(mode, "skip") == 0) return HC_RUN_TESTS(skip1, NULL, NULL);
    if (strcmp(mode, "skip_fail") == 0) return HC_RUN_TESTS(skip_fail, NULL, NULL);
    if (strcmp(mode, "dep") == 0) return HC_RUN_TESTS(dep, NULL, NULL);
    fprintf(stderr, "unknown HC_SKIP_SELFTEST_MODE '%s'\n", mode);
    return 2;
}

/* ---- the parent ---------------------------------------------------------------------------- */

/* Run this program in `mode` with HC_ALLOW_MISSING_DEPS = allow (NULL:
 * unset); its stdout and stderr go to `log`.  Returns the exit status. */
static int run_child(const char *mode, const char *allow, const char *log)
{
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0) _exit(3);
        setenv("HC_SKIP_SELFTEST_MODE", mode, 1);
        setenv("CMOCKA_MESSAGE_OUTPUT", "stdout", 1);
        if (allow) setenv("HC_ALLOW_MISSING_DEPS", allow, 1);
        else unsetenv("HC_ALLOW_MISSING_DEPS");
        char *const argv[] = {"test_skip_selftest", NULL};
        execv("/proc/self/exe", argv);
        _exit(4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status)) fail_msg("mode %s: child did not exit normally", mode);
    return WEXITSTATUS(status);
}

/* The number of lines of file `path` that contain `text`. */
static int lines_with(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

static void exit_statuses(void **state)
{
    (void)state;
    static const struct {
        const char *mode, *allow;
        int rc;
        const char *text; /* a line of the child's output must contain it */
    } cases[] = {
        {"pass", NULL, 0, "[  PASSED  ] 1 test(s)."},
        {"skip", NULL, 77, "SKIP: self-test skip"},
        {"skip", "1", 77, "SKIP: self-test skip"},
        {"skip_fail", NULL, 1, "self-test failure"},
        {"dep", NULL, 1, "missing declared dependency: selftest-package (/nonexistent/selftest)"},
        {"dep", "0", 1, "missing declared dependency: selftest-package"},
        {"dep", "yes", 1, "missing declared dependency: selftest-package"},
        {"dep", "1", 77, "SKIP: missing selftest-package (/nonexistent/selftest) (HC_ALLOW_MISSING_DEPS=1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *log = "skip_selftest.log";
        int rc = run_child(cases[i].mode, cases[i].allow, log);
        printf("mode %-9s HC_ALLOW_MISSING_DEPS=%-4s -> exit %d\n", cases[i].mode,
               cases[i].allow ? cases[i].allow : "-", rc);
        if (rc != cases[i].rc)
            fail_msg("mode %s, HC_ALLOW_MISSING_DEPS=%s: exit %d, want %d", cases[i].mode,
                     cases[i].allow ? cases[i].allow : "(unset)", rc, cases[i].rc);
        if (lines_with(log, cases[i].text) != 1)
            fail_msg("mode %s: no single output line contains '%s'", cases[i].mode, cases[i].text);
        remove(log);
    }
}

/* Every tests/test_*.c: no bare skip() (it would not be counted), and one
 * that may skip returns HC_RUN_TESTS. */
static void sources_use_the_runner(void **state)
{
    (void)state;
    const char *dir = HC_TEST_DATA "/..";
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n_files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "test_", 5) != 0 || len < 3 || strcmp(e->d_name + len - 2, ".c") != 0) continue;
        char path[4096], line[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        int may_skip = 0, runner = 0, bare = 0;
        while (fgets(line, sizeof line, f)) {
            may_skip |= strstr(line, "HC_SKIP(") || strstr(line, "HC_MISSING_DEP(");
            runner |= strstr(line, "return HC_RUN_TESTS(") != NULL;
            for (const char *p = line; (p = strstr(p, "skip()")); p++) /* not some_skip() */
                bare |= p == line || !(p[-1] == '_' || isalnum((unsigned char)p[-1]));
        }
        fclose(f);
        n_files++;
        if (strcmp(e->d_name, "test_skip_selftest.c") == 0) continue; /* names them in comments */
        if (bare) fail_msg("%s: bare skip(): use HC_SKIP(reason) or HC_MISSING_DEP(what) of testutil.h", e->d_name);
        if (may_skip && !runner) fail_msg("%s: skips but main does not return HC_RUN_TESTS(...)", e->d_name);
    }
    closedir(d);
    assert_true(n_files >= 2);
}

int main(void)
{
    const char *mode = getenv("HC_SKIP_SELFTEST_MODE");
    if (mode) return child(mode);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_statuses),
        cmocka_unit_test(sources_use_the_runner),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
