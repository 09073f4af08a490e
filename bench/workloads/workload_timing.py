"""Shared by the benchmark workloads: reads the size from the command line,
times the workload's main loop, and reports the loop's wall time and the
process's peak RSS.

The peak RSS is VmHWM from /proc/self/status: the high-water mark of this
process's own memory since its exec. getrusage's ru_maxrss would not do:
it also keeps the peak of the process image before the exec, which under
`leakspy run` is the forked copy of leakspy.

The report is one JSON line, written to the file named by
$LEAKSPY_BENCH_RESULT (or printed when it is unset), so that the harness
measures the target itself and not the tool started around it.
"""

import json
import os
import sys
import time


def peak_rss():
    """VmHWM, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run(main, default_size):
    """Calls main(size) once, timed, and reports the figures."""
    size = int(sys.argv[1]) if len(sys.argv) > 1 else default_size
    started = time.perf_counter()
    main(size)
    loop_seconds = time.perf_counter() - started
    peak_rss_bytes = peak_rss()
    line = json.dumps(
        {"size": size, "loop_seconds": loop_seconds, "peak_rss_bytes": peak_rss_bytes}
    )
    path = os.environ.get("LEAKSPY_BENCH_RESULT")
    if path:
        with open(path, "w") as result:
            result.write(line + "\n")
    else:
        print(line)
