"""Write the line-table fixtures that `line_table`'s unit tests check against.

Run with one interpreter, it compiles SAMPLE, walks every nested code object
and prints one JSON fixture to stdout:

    python3.12 dump_line_tables.py > py312.json

Run with `--regenerate`, it runs itself under every interpreter listed in
INTERPRETERS that is present and rewrites the fixtures next to this script:

    python3 dump_line_tables.py --regenerate

A fixture holds, per code object: its name, co_firstlineno, the raw table in
hex (co_lnotab on 3.9, co_linetable on 3.10+), the bytecode length in bytes,
and the expected line of every 2-byte code unit (null when it has none),
run-length encoded as [line, count] pairs to keep the files small.
The expected lines come from the interpreter's own API: dis.findlinestarts on
3.9, co_lines() on 3.10+, cross-checked against co_positions() on 3.11+.
"""

import dis
import json
import os
import subprocess
import sys
import types

# (fixture file, command line that runs the interpreter).
PYENV = os.path.join(
    os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions"
)
INTERPRETERS = [
    ("py39.json", [os.path.join(PYENV, "3.9.18", "bin", "python3")]),
    ("py310.json", [os.path.join(PYENV, "3.10.13", "bin", "python3")]),
    ("py311.json", [os.path.join(PYENV, "3.11.7", "bin", "python3")]),
    ("py312.json", [os.path.join(PYENV, "3.12.1", "bin", "python3")]),
    ("py313.json", [os.path.join(PYENV, "3.13.0", "bin", "python3")]),
    (
        "py314.json",
        ["chroot", "/work/pythons/forky", "/usr/bin/python3.14"],
    ),
]

# Lines of the padding that make line deltas too large for one lnotab pair.
LONG_GAP = 300


def sample_source():
    """The compiled program: every construct that shapes a line table."""
    gap = "\n" * LONG_GAP
    one_line_sum = " + ".join(["a"] * 120)
    return f'''\
import functools


def plain(a, b):
    c = a + b

    d = c * 2
    return d


def loops(items):
    total = 0
    for item in items:
        if item % 2:
            continue
        while item > 10:
            item //= 3
        total += item
    else:
        total -= 1
    return total


def multi_line_expression(x):
    value = (
        x
        + 1
        - 2
    )
    call = max(
        value,
        x,
        key=lambda v: (
            v * 2
        ),
    )
    return call


def with_try(path):
    try:
        handle = open(path)
    except (OSError, ValueError) as error:
        print(error)
        return None
    else:
        return handle
    finally:
        print("done")


def comprehensions(rows):
    squares = [r * r for r in rows if r]
    pairs = {{k: v for k, v in zip(rows, rows)}}
    flat = {{
        cell
        for row in rows
        for cell in (row, row + 1)
    }}
    return squares, pairs, flat


def generator(n):
    for i in range(n):
        yield i
    yield from range(n)


async def asynchronous(queue):
    async with queue as q:
        async for item in q:
            await item
    return [x async for x in queue]


def decorator(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@decorator
@functools.lru_cache(maxsize=None)
def decorated(x):
    return x


class Holder:
    field = 1

    def method(self):
        return self.field

    @property
    def prop(self):
        return self.method()


def long_one_line(a):
    return {one_line_sum}


def long_line_gaps(a):
    b = a + 1{gap}
    c = (
        b{gap}
    )
    d = max(b,{gap} c)
    return d
{gap}{gap}{gap}{gap}

def far_away(x):
    y = x + 1
    return y
'''


def code_objects(code):
    """Yield `code` and every code object nested in its constants."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def expected_lines_39(code):
    """Per code unit: the line of the last line start at or before it."""
    starts = dict(dis.findlinestarts(code))
    lines = []
    line = None
    for offset in range(0, len(code.co_code), 2):
        line = starts.get(offset, line)
        lines.append(line)
    return lines


def expected_lines_310(code):
    """Per code unit: the line co_lines() gives its byte offset."""
    lines = [None] * (len(code.co_code) // 2)
    seen = [False] * len(lines)
    for start, end, line in code.co_lines():
        for offset in range(start, end, 2):
            assert not seen[offset // 2], (code, offset)
            seen[offset // 2] = True
            lines[offset // 2] = line
    assert all(seen), code
    return lines


def check_positions(code, lines):
    """3.11+: co_positions() must agree with co_lines() on every code unit."""
    positions = list(code.co_positions())
    assert len(positions) == len(lines), code
    for unit, (line, *_columns) in enumerate(positions):
        assert line == lines[unit], (code, unit, line, lines[unit])


def run_lengths(lines):
    """[[line, count], ...]: runs of code units that share a line."""
    runs = []
    for line in lines:
        if runs and runs[-1][0] == line:
            runs[-1][1] += 1
        else:
            runs.append([line, 1])
    return runs


def dump():
    module = compile(sample_source(), "sample.py", "exec")
    objects = []
    for code in code_objects(module):
        if sys.version_info < (3, 10):
            table = code.co_lnotab
            lines = expected_lines_39(code)
        else:
            table = code.co_linetable
            lines = expected_lines_310(code)
            if sys.version_info >= (3, 11):
                check_positions(code, lines)
        objects.append(
            {
                "name": code.co_name,
                "first_line": code.co_firstlineno,
                "table": table.hex(),
                "code_len": len(code.co_code),
                "line_runs": run_lengths(lines),
            }
        )
    fixture = {
        "version": "%d.%d.%d" % sys.version_info[:3],
        "code_objects": objects,
    }
    # One code object per line keeps the files small and diffs readable.
    out = sys.stdout
    out.write('{"version": %s, "code_objects": [\n' % json.dumps(fixture["version"]))
    for i, obj in enumerate(objects):
        sep = ",\n" if i + 1 < len(objects) else "\n"
        out.write(json.dumps(obj, separators=(",", ":")) + sep)
    out.write("]}\n")


def regenerate():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.abspath(__file__)) as f:
        script = f.read()
    for name, command in INTERPRETERS:
        if not os.path.exists(command[1] if command[0] == "chroot" else command[0]):
            print("skipping %s: %s not found" % (name, command), file=sys.stderr)
            continue
        # The script goes in on stdin so that chrooted interpreters need no copy.
        result = subprocess.run(
            command + ["-"],
            input=script.encode(),
            stdout=subprocess.PIPE,
            check=True,
        )
        with open(os.path.join(here, name), "wb") as f:
            f.write(result.stdout)
        print("wrote %s (%d bytes)" % (name, len(result.stdout)), file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        regenerate()
    else:
        dump()
