"""Benchmarks at scale (DESIGN §11): ``seed`` builds synthetic cases in bulk, ``timings``
times the queries the busiest pages run."""

from caseapp.bench.seed import seed_cases
from caseapp.bench.timings import Figure, benchmark_names, count_cases, run_benchmarks

__all__ = ["Figure", "benchmark_names", "count_cases", "run_benchmarks", "seed_cases"]
