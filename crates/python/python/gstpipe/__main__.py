"""``python -m gstpipe``: run a pipeline and print every frame its appsink receives.

This is the ``gstpipe launch`` command itself (the extension module runs its Rust code), so
the options, the output (one line per frame and a summary, NDJSON with ``--json``, health
events with ``--reconnect``), the signals (Ctrl-C, SIGTERM and SIGHUP end the stream
gracefully) and the exit status (0 at end of stream, 1 when the pipeline fails, 2 for usage
errors, bad descriptions and unknown elements) are the command's. ``--help`` lists the
options.
"""

from __future__ import annotations

import sys
from typing import List, Optional

from ._gstpipe import _launch

def main(argv: Optional[List[str]] = None) -> int:
    """The ``python -m gstpipe`` entry point: runs ``gstpipe launch`` with ``argv`` (default:
    the command line's arguments) and returns its exit status."""
    # The command writes to the process's stdout and stderr: what Python buffered goes first.
    sys.stdout.flush()
    sys.stderr.flush()
    return _launch(sys.argv[1:] if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
