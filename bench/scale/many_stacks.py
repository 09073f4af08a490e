"""The target of the scale measurement: it holds ALLOCATIONS live blocks
allocated from STACKS distinct Python stacks.

It generates OUTER x INNER x SITES allocation sites: OUTER functions each
call every one of INNER functions from one call site, and each inner
function has SITES lines that allocate REPEAT bytes objects of 64 bytes in
a loop (one pymalloc block each, kept in a preallocated list). Every site
reached through every outer function is a stack of its own.

Usage: many_stacks.py OUTER INNER SITES REPEAT. It prints "ready" and waits
for a line on stdin (so the profiler attaches before any allocation),
allocates, prints "holding STACKS ALLOCATIONS", and waits for another line
(or the end of stdin) before it exits.
"""

import sys


def generate(outer, inner, sites):
    lines = []
    for index in range(inner):
        lines.append("def inner_%d(keep, repeat):" % index)
        for site in range(sites):
            lines.append("    for _ in repeat: keep.append(bytes(64))  # site %d" % site)
    lines.append("INNER = [%s]" % ", ".join("inner_%d" % index for index in range(inner)))
    for index in range(outer):
        lines.append("def outer_%d(keep, repeat):" % index)
        lines.append("    for function in INNER: function(keep, repeat)")
    lines.append("OUTER = [%s]" % ", ".join("outer_%d" % index for index in range(outer)))
    namespace = {}
    exec(compile("\n".join(lines) + "\n", "many_stacks_generated.py", "exec"), namespace)
    return namespace["OUTER"]


def main():
    outer, inner, sites, repeat = (int(argument) for argument in sys.argv[1:5])
    functions = generate(outer, inner, sites)
    keep = []
    print("ready", flush=True)
    sys.stdin.readline()
    repeats = range(repeat)
    for function in functions:
        function(keep, repeats)
    print("holding %d %d" % (outer * inner * sites, len(keep)), flush=True)
    sys.stdin.readline()


main()
