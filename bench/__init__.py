"""``make bench``: the performance figures of ARCHITECTURE.md's budgets, measured in one run.

``python -m bench`` runs each part in its own interpreter (moto's state is process-wide), merges what they measured
into ``bench/results.json`` and writes ``docs/benchmarks.md``; ``--smoke`` runs every part once with tiny sizes
(what ``make test`` does) and writes into ``test-artifacts/bench`` instead.
"""
