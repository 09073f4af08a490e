"""An asyncio workload: producer tasks send messages through bounded
asyncio queues to consumer tasks, which decode them into dicts and keep a
bounded window of recent results.
Size (argv[1]): the number of messages.
"""

import asyncio

from workload_timing import run

CONNECTIONS = 50


async def producer(channel, first, count):
    for number in range(first, first + count):
        await channel.put(("msg-%d" % number, list(range(number % 16))))
    await channel.put(None)


async def consumer(channel, recent):
    handled = 0
    while True:
        message = await channel.get()
        if message is None:
            return handled
        name, values = message
        recent.append({"name": name, "sum": sum(values), "parts": name.split("-")})
        del recent[:-100]
        handled += 1


async def serve(size):
    per_connection = size // CONNECTIONS
    recent = []
    tasks = []
    for connection in range(CONNECTIONS):
        channel = asyncio.Queue(maxsize=8)
        tasks.append(producer(channel, connection * per_connection, per_connection))
        tasks.append(consumer(channel, recent))
    results = await asyncio.gather(*tasks)
    return sum(result or 0 for result in results)


def main(size):
    return asyncio.run(serve(size))


run(main, 100_000)
