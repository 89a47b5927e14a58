"""A sampling profiler for a process serving (py-spy is not at hand): a thread looks at the main thread's stack
every millisecond and counts, for each function, the samples it was on the stack (inclusive) and on top (own);
written to a file every two seconds, so a process stopped by a signal still leaves its profile.

    python -m bench.sampling OUT.json -m beacon.bot serve --port 3000     # bench.crowd --profile does this
"""

from __future__ import annotations

import json
import runpy
import sys
import threading
import time
from collections import Counter
from pathlib import Path


def start(out: Path, interval: float = 0.001) -> None:
    main = threading.main_thread().ident
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0

    def sample() -> None:
        nonlocal total
        written = time.monotonic()
        while True:
            time.sleep(interval)
            frame = sys._current_frames().get(main or 0)
            if frame is None:
                continue
            total += 1
            seen = set()
            top = True
            while frame is not None:
                code = frame.f_code
                name = f"{code.co_filename.split('site-packages/')[-1]}:{code.co_firstlineno}({code.co_name})"
                if top:
                    own[name] += 1
                    top = False
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += 1
                frame = frame.f_back
            if time.monotonic() - written > 2:
                written = time.monotonic()
                out.write_text(json.dumps({"samples": total, "inclusive": inclusive.most_common(150),
                                           "own": own.most_common(80)}, indent=0))

    threading.Thread(target=sample, daemon=True, name="sampler").start()


def main() -> None:
    out, flag, module, *rest = sys.argv[1:]
    assert flag == "-m"
    sys.setswitchinterval(0.0002)  # the sampler gets its turn while the loop is busy, not only when it waits
    start(Path(out))
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
