"""Settings every test that runs llama.cpp shares, from the environment.

GAZAL_TEST_THREADS (default 2): llama.cpp's thread count. CI runs the llama.cpp tests with 1
and 2 threads: a different thread count changes the floating-point sums, so a test that
depends on the exact tokens a random-weight model writes fails in one of the two runs.
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("GAZAL_TEST_THREADS", "2"))
