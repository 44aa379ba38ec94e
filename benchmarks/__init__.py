"""Speed and agreement benchmarks for bayesmixed and its peers.

Run everything with one command from the repository root::

    python benchmarks/run.py                      # default cases and tools
    python benchmarks/run.py --cases sleepstudy --tools bayesmixed,bambi
    python benchmarks/run.py --sweep              # scaling sweep (bayesmixed)

See ``benchmarks/README.md`` for what is measured and how. Nothing here is a
test: there are no timing assertions, only records (JSON) and tables (markdown).

Modules:

- :mod:`benchmarks.cases`       the benchmark cases (formulas per tool, data, factors)
- :mod:`benchmarks.references`  lme4 reference estimates (``models/*.toml`` or built in)
- :mod:`benchmarks.params`      selecting population-level parameters from a posterior
- :mod:`benchmarks.metrics`     ESS, R-hat, ESS/s, gradient evaluations per draw
- :mod:`benchmarks.harness`     fresh subprocesses with wall time and peak RSS
- :mod:`benchmarks.child`       what runs inside the fresh Python process
- :mod:`benchmarks.runners`     one runner per tool (bayesmixed, bambi, rstanarm, brms)
- :mod:`benchmarks.sweep`       simulated data for the rows x levels sweep
- :mod:`benchmarks.report`      markdown tables from a JSON record
"""
