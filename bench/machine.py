"""What the machine was doing during a measurement: CPU time stolen by the hypervisor.

On a shared virtual machine another guest can take a fifth of our CPU for seconds at a time;
a latency tail measured then says more about the neighbour than about the hub. Each benchmark
prints the share stolen while it ran, so a figure can be read (or re-measured) with that in mind.
"""

from __future__ import annotations

from pathlib import Path


def cpu_ticks() -> tuple[int, int]:
    """(all ticks, stolen ticks) since boot, summed over CPUs; (0, 0) where /proc is absent."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(x) for x in fields[:8]]
    return sum(ticks), ticks[7] if len(ticks) > 7 else 0


def stolen_since(before: tuple[int, int]) -> str:
    total, stolen = cpu_ticks()
    span = total - before[0]
    if span <= 0:
        return "steal unknown"
    return f"{(stolen - before[1]) / span:.0%} of CPU time stolen by the hypervisor"
