/* The protocol every probe-cost driver follows, so that only its loop is
 * timed and only after leakspy has attached: it prints "ready", waits for
 * a line on stdin, runs the loop, prints "<nanoseconds> <calls>" and exits
 * at once (no interpreter teardown, no allocator work after the loop). */
#ifndef PROBE_DRIVERS_GO_PROTOCOL_H
#define PROBE_DRIVERS_GO_PROTOCOL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void wait_for_go(void)
{
    char line[16];
    printf("ready\n");
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL)
        _exit(3);
}

static long long now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void report_and_exit(long long elapsed_ns, long calls)
{
    printf("%lld %ld\n", elapsed_ns, calls);
    fflush(stdout);
    _exit(0);
}

#endif
