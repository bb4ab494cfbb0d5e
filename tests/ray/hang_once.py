"""A fake agent: `hang_once.py MARKER TASK SCRIPT.json`.

The first run of TASK (while MARKER does not exist) writes its pid to MARKER and hangs, so a
test can kill the Ray worker running it; every other run is tests/fixtures/agents/scripted.py.
"""

import os
import sys
import time
from pathlib import Path

SCRIPTED = Path(__file__).resolve().parents[1] / "fixtures" / "agents" / "scripted.py"


def main() -> None:
    marker, task, script = sys.argv[1:4]
    if os.environ.get("SPECFLOW_TASK_ID") == task and not os.path.exists(marker):
        Path(marker + ".tmp").write_text(str(os.getpid()))
        os.replace(marker + ".tmp", marker)
        time.sleep(120)
        sys.exit(3)
    os.execv(sys.executable, [sys.executable, str(SCRIPTED), script])


if __name__ == "__main__":
    main()
