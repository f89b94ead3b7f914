import time

_t_start = time.time()  # noqa: E702, I001  first statement: when the child started

"""Queue probe, run by ``hydratrack agent``: ``queue_probe.py STAMP_FILE TOKEN``.

Writes the wall-clock time it started, prints one console line holding TOKEN, writes when
it printed it, and exits 0.
"""

import json  # noqa: E402
import sys  # noqa: E402

stamp, token = sys.argv[1], sys.argv[2]
t_print = time.time()
print(f"probe line {token}", flush=True)
with open(stamp, "w") as fh:
    json.dump({"started": _t_start, "printed": t_print}, fh)
