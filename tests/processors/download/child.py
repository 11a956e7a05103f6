"""The program a child process runs to download, for the tests that kill or measure it."""

# Downloads argv[1] to argv[2], allowing host argv[3]; with argv[4], also verifies the wav
# and prints the sha256 and the peak RSS (VmHWM) in KiB before and after, as JSON.
CHILD_DOWNLOAD = """
import json, sys
from pathlib import Path
import httpx
from processors.audio import verify_audio
from processors.download import download_audio

def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

url, destination, host = sys.argv[1:4]
with httpx.Client(trust_env=False, timeout=30) as client:
    before = peak_kib()
    result = download_audio(
        client, url, Path(destination), allowed_hosts=[host], max_bytes=1 << 30
    )
    if len(sys.argv) > 4:
        facts = verify_audio(Path(destination), "wav", float(sys.argv[4]))
        after = peak_kib()
        print(json.dumps({"before": before, "after": after, "sha256": result.sha256,
                          "size": result.size, "duration": facts.duration_sec}))
"""
