#!/usr/bin/env python3
"""Times whole commands against each other, interleaved.

    python3 benches/compare_commands.py ROUNDS 'CMD A' 'CMD B' ...

Each round runs every command once, in turn, so that the machine's drift
touches them all alike (after ten untimed rounds). Prints each command's
median wall time (spawn to exit, stdout to /dev/null) and its ratio to the
first command's. Used for before/after comparisons of two builds of the
CLI (copy the old binary aside first) and for whole-command baselines such
as bwrap; `cargo bench --bench process` has the standing comparisons.
"""
import os
import shlex
import statistics
import sys
import time


def main() -> int:
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rounds = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    devnull = os.open(os.devnull, os.O_WRONLY)

    def run(argv: list[str]) -> float:
        start = time.perf_counter()
        pid = os.posix_spawnp(
            argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)]
        )
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{shlex.join(argv)} failed")
        return elapsed

    for _ in range(10):
        for argv in commands:
            run(argv)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for i, argv in enumerate(commands):
            times[i].append(run(argv))
    base = statistics.median(times[0])
    for text, t in zip(sys.argv[2:], times):
        median = statistics.median(t)
        print(f"{median * 1e3:8.3f} ms  {median / base:5.2f}x  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
