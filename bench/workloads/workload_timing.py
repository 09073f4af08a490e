"""Shared by the benchmark workloads: reads the size from the command line,
times the workload's main loop, and reports the loop's wall time and the
process's peak RSS.

The report is one JSON line, written to the file named by
$LEAKSPY_BENCH_RESULT (or printed when it is unset), so that the harness
measures the target itself and not the tool started around it.
"""

import json
import os
import resource
import sys
import time


def run(main, default_size):
    """Calls main(size) once, timed, and reports the figures."""
    size = int(sys.argv[1]) if len(sys.argv) > 1 else default_size
    started = time.perf_counter()
    main(size)
    loop_seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux.
    peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    line = json.dumps(
        {"size": size, "loop_seconds": loop_seconds, "peak_rss_bytes": peak_rss_bytes}
    )
    path = os.environ.get("LEAKSPY_BENCH_RESULT")
    if path:
        with open(path, "w") as result:
            result.write(line + "\n")
    else:
        print(line)
