/* Fixture for leakspy's symbolizer tests: a shared library function that
 * returns the return address of a call made at a marked line. The call ends
 * its line, so only address-1 finds that line. */

static void *recorded;

__attribute__((noinline, noipa)) static void record_return_address(void) {
    recorded = __builtin_return_address(0);
}

__attribute__((noinline)) void *lib_call_site(void) {
    record_return_address(); /* MARK(lib_call) */
    return recorded;
}
