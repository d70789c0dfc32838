"""thumbflow's benchmark: `make bench`, or `python -m bench [--quick] [--engines-only]`.

corpus      deterministic photo-like sources, generated into a temp dir at run time
engines     thumbflow's render, pyvips' best pipeline, thumbflow's decode+encode floor, simple Pillow
node/       sharp's best pipeline (Node.js worker; `make bench` installs sharp there)
measure     CPU, wall and peak RSS in fresh subprocesses, rounds of alternating engines
quality     output checks against a float LANCZOS reference of the full upright decode
comparison  thumbflow against the best peer per case: CPU, quality, bytes, and their tables
filters     the cheapest Pillow filter per step that keeps the quality bound, timed: the engine's limit
coldstart   import+init time of each handler module in a fresh interpreter
localrun    N x 12 MP through local mode: throughput and orchestration share; cost
report      every target, PASS/FAIL, and the markdown report
"""
