/* Embeds CPython and calls one function of its object allocator N times,
 * for `cargo xtask probe-costs`: `python_calls FUNCTION N`, FUNCTION one
 * of PyObject_Malloc, PyObject_Calloc, PyObject_Realloc, PyObject_Free.
 * Each goes through the allocator table to the function leakspy probes
 * (_PyObject_Malloc and so on); blocks are leaked, or allocated before the
 * loop for PyObject_Free. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "go_protocol.h"

static void *volatile sink;

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FUNCTION CALLS\n", argv[0]);
        return 2;
    }
    const char *function = argv[1];
    long calls = atol(argv[2]);
    Py_InitializeEx(0);
    void **blocks = malloc(sizeof(void *) * (size_t)(calls > 0 ? calls : 1));
    long prepared = strcmp(function, "PyObject_Free") == 0 ? calls : 1;
    for (long i = 0; i < prepared; i++)
        blocks[i] = PyObject_Malloc(16);
    wait_for_go();
    long long started = now_ns();
    void *p = blocks[0];
    if (strcmp(function, "PyObject_Malloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = PyObject_Malloc(16);
    } else if (strcmp(function, "PyObject_Calloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = PyObject_Calloc(1, 16);
    } else if (strcmp(function, "PyObject_Realloc") == 0) {
        for (long i = 0; i < calls; i++)
            sink = p = PyObject_Realloc(p, 16);
    } else if (strcmp(function, "PyObject_Free") == 0) {
        for (long i = 0; i < calls; i++)
            PyObject_Free(blocks[i]);
    } else {
        fprintf(stderr, "unknown function %s\n", function);
        _exit(2);
    }
    report_and_exit(now_ns() - started, calls);
}
