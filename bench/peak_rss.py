"""`python bench/peak_rss.py COMMAND…`: runs COMMAND and prints its peak RSS to stderr.

A child's ru_maxrss counts the memory its parent had when it forked, so a large parent (the
benchmark holds generated records) would hide the child's own peak. This small process forks
instead, and reports what wait4 says of the child: `PEAK_RSS_KB <n>`.
"""

import os
import sys

pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"PEAK_RSS_KB {usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))
