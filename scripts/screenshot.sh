#!/usr/bin/env bash
# Screenshots of an HTML report in headless Chromium (Debian package `chromium`), for people to look at: the full
# page (blank space below the page trimmed) and one PNG per viewport of 1280 x 1100 px, as a reader scrolls.
# Usage: scripts/screenshot.sh [REPORT.html] [OUTDIR]     (defaults: out/report.html, out/screenshots)
# Chromium opens only the local file; the report itself loads nothing from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-out/report.html}
outdir=${2:-out/screenshots}
width=1280 viewport=1100 tall=${SCREENSHOT_HEIGHT:-24000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot: needs headless Chromium (Debian: apt-get install chromium)" >&2
  exit 2
fi
[ -f "$report" ] || { echo "screenshot: $report: no such file (run make demo first)" >&2; exit 2; }
mkdir -p "$outdir"
raw="$outdir/.raw.png"
# No host name resolves and background services are off: Chromium itself stays offline too (its updater and
# account checks would otherwise phone home), and a page that needed the network would show it.
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --host-resolver-rules="MAP * ~NOTFOUND" --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --disable-default-apps --disable-features=SpellCheck \
  --window-size="$width,$tall" --screenshot="$raw" "file://$(realpath "$report")" >/dev/null 2>&1
.venv/bin/python - "$raw" "$outdir" "$viewport" <<'EOF'
import sys
from pathlib import Path

import numpy as np
from PIL import Image

raw, outdir, step = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
im = Image.open(raw).convert("RGB")
ink = np.flatnonzero((np.asarray(im) < 250).any(axis=(1, 2)))
height = min(im.height, int(ink.max()) + 40) if ink.size else im.height
page = im.crop((0, 0, im.width, height))
page.save(outdir / "full.png", optimize=True)
for old in outdir.glob("view-*.png"):
    old.unlink()
for n, top in enumerate(range(0, height, step)):
    page.crop((0, top, im.width, min(top + step, height))).save(outdir / f"view-{n:02d}.png", optimize=True)
raw.unlink()
print(f"{outdir}/full.png ({im.width} x {height} px) and {n + 1} viewports {outdir}/view-NN.png")
if height >= im.height - 40:
    print(f"warning: the page may be taller than {im.height} px; set SCREENSHOT_HEIGHT", file=sys.stderr)
EOF
