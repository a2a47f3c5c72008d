"""Load from wrk (C, outside our interpreter's lock): a benchmark gives the Lua that makes its
requests; this adds the summary line and reads it back."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

# Appended to every script: one line wrk's summary is read from.
DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    output: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run(port: int, requests_lua: str, *, threads: int, connections: int,
        seconds: int) -> Result:
    """Run wrk for ``seconds`` against ``port`` with the given request-making Lua."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(requests_lua + DONE)
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", fh.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(fh.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, micros, p50, p99, errors = (int(x) for x in line.split()[1:])
    return Result(requests, micros / 1e6, p50 / 1000, p99 / 1000, errors, out)
