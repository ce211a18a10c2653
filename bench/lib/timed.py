#!/usr/bin/env python3
"""timed.py OUT ERR COMMAND [ARG...]: runs COMMAND once (stdout to the file OUT, stderr to ERR,
in the current directory) and prints "microseconds KiB cpu-seconds faults": its wall time, peak
RSS, user + system time and page faults (minor ones: pages mapped in without a disk read).
Exits 1 (after printing ERR) when the command fails.

The process is timed from its spawn to its reaping with wait4(), which also gives its own
rusage to the microsecond: no shell, subshell or time(1) sits between the clock and the process,
so their start-up (some 20 ms here) is not counted against a command that itself runs in 20 ms."""
import os
import shutil
import sys
import time

out_path, err_path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
binary = shutil.which(argv[0]) or argv[0]
with open(out_path, "wb") as out, open(err_path, "wb") as err:
    start = time.perf_counter()
    pid = os.posix_spawn(binary, argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                       (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
    _, status, ru = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
if os.waitstatus_to_exitcode(status) != 0:
    sys.stderr.write(f"{' '.join(argv)} failed:\n")
    sys.stderr.write(open(err_path).read())
    sys.exit(1)
print(f"{int(elapsed * 1e6)} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.6f} {ru.ru_minflt}")
