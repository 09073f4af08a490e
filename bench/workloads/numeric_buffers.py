"""A numeric workload whose C code allocates large buffers: every step
copies an array of doubles (array, a C extension), repeats it, packs it
to bytes and into a bytearray, compresses a slice of it with zlib (another
C extension, with its own output buffers), and keeps a small digest. Each
step allocates and frees about 14 MiB in a few large blocks.
Size (argv[1]): the number of steps.
"""

import array
import zlib

from workload_timing import run

VALUES = 256 * 1024  # 2 MiB of doubles per array
PATTERN = 1024


def step(number, base):
    values = array.array("d", base)
    values[number % VALUES] = float(number)
    doubled = values * 2  # a 4 MiB array
    raw = doubled.tobytes()
    packed = zlib.compress(raw[: 256 * 1024], 1)
    buffer = bytearray(raw)
    buffer[0] = number % 256
    view = memoryview(buffer).cast("d")
    return len(packed) + int(view[1])


def main(size):
    base = array.array("d", map(float, range(PATTERN))) * (VALUES // PATTERN)
    digests = []
    for number in range(size):
        digests.append(step(number, base))
    return sum(digests)


run(main, 40)
