#!/usr/bin/env python3
"""fault-cost.py: prints the microseconds this machine takes to fault in one page: a fresh
anonymous 4 KiB page written for the first time, less the same loop over pages already in.

Start-up time of a process is mostly page faults (the dynamic loader maps and relocates every
library; the heap grows page by page): on a machine where one costs 10-30 us, as in some
micro-VMs, a process that loads libcurl and OpenSSL with their dependencies spends well over
10 ms just starting, whatever it then does. bench/sched-50 prints this beside ps's own faults."""
import mmap
import time

PAGES = 4096
best = None
for _ in range(3):
    m = mmap.mmap(-1, PAGES * mmap.PAGESIZE)
    start = time.perf_counter()
    for i in range(0, PAGES * mmap.PAGESIZE, mmap.PAGESIZE):
        m[i] = 1
    first = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, PAGES * mmap.PAGESIZE, mmap.PAGESIZE):
        m[i] = 2
    again = time.perf_counter() - start
    m.close()
    us = (first - again) / PAGES * 1e6
    best = us if best is None else min(best, us)
print(f"{best:.1f}")
