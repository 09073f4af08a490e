"""A threaded workload: four worker threads take jobs from a queue, build
and transform short-lived data for each, and put results on another queue
that the main thread drains.
Size (argv[1]): the number of jobs.
"""

import queue
import threading

from workload_timing import run

WORKERS = 4


def process(job):
    words = ["w%d-%d" % (job, index) for index in range(40)]
    counts = {}
    for word in words:
        counts[word[-1]] = counts.get(word[-1], 0) + len(word)
    return job, sorted(counts.items())


def worker(jobs, results):
    while True:
        job = jobs.get()
        if job is None:
            return
        results.put(process(job))


def main(size):
    jobs = queue.Queue(maxsize=256)
    results = queue.Queue()
    threads = [threading.Thread(target=worker, args=(jobs, results)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    done = 0
    for job in range(size):
        jobs.put(job)
        while not results.empty():
            results.get()
            done += 1
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    while not results.empty():
        results.get()
        done += 1
    assert done == size, (done, size)


run(main, 40_000)
