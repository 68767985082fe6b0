"""Prometheus text exposition of the query counters (no client library: a handful of series)."""

from __future__ import annotations

import threading
from collections import Counter

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.buckets = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self.in_flight = 0

    def observe(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            self.duration_sum += seconds
            self.duration_count += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1

    def render(self, timeouts: int, restarts: int, workers: int, abandoned: int) -> str:
        with self._lock:
            lines = ["# HELP statecraft_queries_total Queries answered, by outcome.",
                     "# TYPE statecraft_queries_total counter"]
            for outcome in ("ok", "client_error", "timeout", "busy", "abandoned", "error"):
                lines.append(f'statecraft_queries_total{{outcome="{outcome}"}} {self.outcomes[outcome]}')
            lines += ["# HELP statecraft_query_duration_seconds Time from accepting a query to its answer.",
                      "# TYPE statecraft_query_duration_seconds histogram"]
            for bound, count in zip(BUCKETS, self.buckets):
                lines.append(f'statecraft_query_duration_seconds_bucket{{le="{bound}"}} {count}')
            lines += [f'statecraft_query_duration_seconds_bucket{{le="+Inf"}} {self.duration_count}',
                      f"statecraft_query_duration_seconds_sum {self.duration_sum:.6f}",
                      f"statecraft_query_duration_seconds_count {self.duration_count}",
                      "# HELP statecraft_query_timeouts_total Queries stopped at the time limit.",
                      "# TYPE statecraft_query_timeouts_total counter",
                      f"statecraft_query_timeouts_total {timeouts}",
                      "# HELP statecraft_worker_restarts_total Query workers killed and replaced.",
                      "# TYPE statecraft_worker_restarts_total counter",
                      f"statecraft_worker_restarts_total {restarts}",
                      "# HELP statecraft_queries_abandoned_total Queries stopped because their client went away.",
                      "# TYPE statecraft_queries_abandoned_total counter",
                      f"statecraft_queries_abandoned_total {abandoned}",
                      "# HELP statecraft_queries_in_flight Queries being answered now.",
                      "# TYPE statecraft_queries_in_flight gauge",
                      f"statecraft_queries_in_flight {self.in_flight}",
                      "# HELP statecraft_query_workers Query worker processes.",
                      "# TYPE statecraft_query_workers gauge",
                      f"statecraft_query_workers {workers}"]
        return "\n".join(lines) + "\n"
