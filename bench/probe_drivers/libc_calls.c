/* Calls one function of glibc's malloc family N times, for
 * `cargo xtask probe-costs`: `libc_calls FUNCTION N`. Blocks are leaked
 * (or, for free, allocated before the loop), so that the loop calls the
 * named function and no other probed one; reallocarray is the exception,
 * it tail-calls realloc. */
#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include "go_protocol.h"

static void *volatile sink;

static void loop(const char *function, long calls, void **blocks)
{
    void *p = NULL;
    if (strcmp(function, "malloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = malloc(16);
    } else if (strcmp(function, "free") == 0) {
        for (long i = 0; i < calls; i++)
            free(blocks[i]);
    } else if (strcmp(function, "calloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = calloc(1, 16);
    } else if (strcmp(function, "realloc") == 0) {
        p = blocks[0];
        for (long i = 0; i < calls; i++)
            sink = p = realloc(p, 16);
    } else if (strcmp(function, "reallocarray") == 0) {
        p = blocks[0];
        for (long i = 0; i < calls; i++)
            sink = p = reallocarray(p, 1, 16);
    } else if (strcmp(function, "posix_memalign") == 0) {
        for (long i = 0; i < calls; i++)
            if (posix_memalign(&p, 64, 16) == 0)
                sink = p;
    } else if (strcmp(function, "aligned_alloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = aligned_alloc(64, 64);
    } else if (strcmp(function, "memalign") == 0) {
        for (long i = 0; i < calls; i++)
            sink = memalign(64, 16);
    } else if (strcmp(function, "valloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = valloc(16);
    } else {
        fprintf(stderr, "unknown function %s\n", function);
        _exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FUNCTION CALLS\n", argv[0]);
        return 2;
    }
    const char *function = argv[1];
    long calls = atol(argv[2]);
    void **blocks = malloc(sizeof(void *) * (size_t)(calls > 0 ? calls : 1));
    long prepared = strcmp(function, "free") == 0 ? calls : 1;
    for (long i = 0; i < prepared; i++)
        blocks[i] = malloc(16);
    wait_for_go();
    long long started = now_ns();
    loop(function, calls, blocks);
    report_and_exit(now_ns() - started, calls);
}
