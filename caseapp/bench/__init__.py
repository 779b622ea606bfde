"""Benchmarks at scale (DESIGN §11): ``seed`` builds synthetic cases in bulk, ``timings``
times the queries the busiest pages run."""

from caseapp.bench.seed import benchmark_names, count_cases, run_benchmarks, seed_cases

__all__ = ["benchmark_names", "count_cases", "run_benchmarks", "seed_cases"]
