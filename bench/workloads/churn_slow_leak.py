"""Allocation-heavy churn with a slow leak.

Every step builds a handful of short-lived records (dicts, lists, tuples,
strings), summarises them and drops them; one step in 200 keeps a 512-byte
buffer in a module-level list that is never cleared (the slow leak).
Size (argv[1]): the number of steps.
"""

from workload_timing import run

LEAKED = []


def make_record(key):
    return {"key": key, "tags": [str(key), "x" * (key % 32)], "pair": (key, key * 2)}


def churn(step):
    records = [make_record(step + offset) for offset in range(8)]
    total = sum(len(record["tags"][0]) for record in records)
    text = "-".join(record["tags"][0] for record in records)
    return total + len(text)


def main(size):
    checksum = 0
    for step in range(size):
        checksum += churn(step)
        if step % 200 == 0:
            LEAKED.append(bytearray(512))  # the slow leak
    return checksum


run(main, 100_000)
