#!/usr/bin/env python3
"""one.py SIDE BINARY WORKDIR RESULTS: runs `BINARY config` once in WORKDIR (stdout to
WORKDIR/SIDE.out, stderr to WORKDIR/SIDE.err) and appends "SIDE microseconds KiB cpu-seconds"
to RESULTS.

The process is timed from its spawn to its reaping with wait4(), which also gives its own
rusage (peak RSS, user and system time to the microsecond): no shell, subshell or time(1) sits
between the clock and the process, so their start-up (some 20 ms here) is not counted against a
command that itself runs in 40 ms."""
import os
import shutil
import sys
import time

side, binary, work, results = sys.argv[1:5]
binary = shutil.which(binary) or binary
os.chdir(work)
with open(os.path.join(work, side + ".out"), "wb") as out, \
        open(os.path.join(work, side + ".err"), "wb") as err:
    start = time.perf_counter()
    pid = os.posix_spawn(binary, [binary, "config"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                       (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
    _, status, ru = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
if os.waitstatus_to_exitcode(status) != 0:
    sys.stderr.write(f"config-1000: {side} config failed:\n")
    sys.stderr.write(open(os.path.join(work, side + ".err")).read())
    sys.exit(1)
with open(results, "a") as f:
    f.write(f"{side} {int(elapsed * 1e6)} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.6f}\n")
