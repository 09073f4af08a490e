/* Fixture for leakspy's symbolizer tests. It prints the address of a
 * function and the return addresses of calls made at marked lines, then
 * "ready", then waits until its stdin closes so that the test can read its
 * maps. The tests find the lines they expect by the MARK(...) comments. */
#include <stdio.h>
#include <unistd.h>

#ifdef WITH_LIB
void *lib_call_site(void);
#endif

static void *recorded;

/* Records the address its caller will return to. Each call to it ends its
 * line, so the return address belongs to the next line: only address-1
 * finds the call's line. */
__attribute__((noinline, noipa)) static void record_return_address(void) {
    recorded = __builtin_return_address(0);
}

__attribute__((noinline)) void *call_site(void) { /* MARK(call_site_entry) */
    record_return_address(); /* MARK(call_site_call) */
    return recorded;
}

static inline __attribute__((always_inline)) void inlined_helper(void) {
    record_return_address(); /* MARK(inlined_call) */
}

__attribute__((noinline)) void *inlined_caller(void) {
    inlined_helper(); /* MARK(inlined_site) */
    return recorded;
}

int main(void) {
    printf("call_site %p\n", (void *)call_site);
    printf("call_site_return %p\n", call_site());
    printf("inlined_return %p\n", inlined_caller());
#ifdef WITH_LIB
    printf("lib_return %p\n", lib_call_site());
#endif
    printf("ready\n");
    fflush(stdout);
    char byte;
    while (read(0, &byte, 1) > 0) {
    }
    return 0;
}
