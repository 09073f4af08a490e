"""An allocation-heavy Python loop, for `cargo xtask probe-costs`:
`python alloc_loop.py N`. It builds and drops small tuples, lists and
strings, so that the interpreter's object allocator (malloc and free in
equal numbers) does most of the probed work. Same protocol as the C
drivers: "ready", a line on stdin, then "<nanoseconds> <iterations>"."""

import os
import sys
import time


def loop(iterations):
    kept = None
    for i in range(iterations):
        kept = [(i, str(i)), [i, i + 1], {"k": i}]
    return kept


def main():
    iterations = int(sys.argv[1])
    print("ready", flush=True)
    if not sys.stdin.readline():
        os._exit(3)
    started = time.monotonic_ns()
    loop(iterations)
    elapsed = time.monotonic_ns() - started
    print(f"{elapsed} {iterations}", flush=True)
    os._exit(0)


main()
