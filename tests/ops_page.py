#!/usr/bin/env python3
"""The gateway's ops page in a real browser: screenshots at desktop and phone width, and the page's
headings as the browser built it. Needs a running local stack (make local-up) and Debian's
chromium (apt-get install chromium). Stdlib only.

    python3 tests/ops_page.py            # writes target/ops/ops-desktop.png and ops-phone.png

Exits non-zero, saying why, if chromium is missing, a screenshot is missing or not as wide as
asked, or a section heading is not on the page.
"""

import shutil
import struct
import subprocess
import sys
import urllib.request
from pathlib import Path

URL = "http://127.0.0.1:3000/ops"
OUT = Path(__file__).resolve().parent.parent / "target" / "ops"
SIZES = {"desktop": (1280, 900), "phone": (375, 1200)}
HEADINGS = ["Café ops", "Queues", "Order stream", "Report executions", "Function metrics"]
# A browser that hangs on a page must not hang the check.
TIMEOUT = 60


def chromium(*arguments):
    command = ["chromium", "--headless", "--no-sandbox", "--hide-scrollbars", *arguments]
    return subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace", timeout=TIMEOUT)


def png_size(path):
    """Width and height from a PNG's IHDR chunk, which the format puts first."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def main():
    if shutil.which("chromium") is None:
        if shutil.which("apt-get") is None:
            # Off Debian `make chromium` installs nothing; the check is skipped, not failed.
            print("ops page: skipped, chromium is not installed (install Chromium to run this check)")
            return None
        return "chromium is not installed (make chromium, or apt-get install chromium)"
    try:
        with urllib.request.urlopen(URL, timeout=10) as response:
            response.read()
    except OSError as e:
        return f"{URL} does not answer ({e}); start the stack with make local-up"

    OUT.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, (width, height) in SIZES.items():
        shot = OUT / f"ops-{name}.png"
        shot.unlink(missing_ok=True)
        ran = chromium(f"--window-size={width},{height}", f"--screenshot={shot}", URL)
        if not shot.exists():
            problems.append(f"no {name} screenshot: chromium said {ran.stderr.strip()[-500:]}")
            continue
        got = png_size(shot)
        if got[0] != width:
            problems.append(f"{shot} is {got[0]}x{got[1]}, not {width} wide")
        else:
            print(f"{shot}: {got[0]}x{got[1]}")

    dom = chromium("--dump-dom", URL).stdout
    missing = [heading for heading in HEADINGS if heading not in dom]
    if missing:
        problems.append(f"the page as chromium built it lacks {missing}")
    else:
        print(f"every heading is on the page: {', '.join(HEADINGS)}")
    return "\n".join(problems) or None


if __name__ == "__main__":
    sys.exit(main())
