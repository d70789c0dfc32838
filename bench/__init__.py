"""thumbflow's benchmark (issue 4): `make bench`, or `python -m bench [--quick]`.

corpus     deterministic photo-like sources, generated into a temp dir at run time
engines    thumbflow's render vs the simple Pillow method vs pyvips, same sizes
measure    CPU and peak RSS in fresh subprocesses; output checks against a LANCZOS reference
coldstart  import+init time of each handler module in a fresh interpreter
localrun   N x 12 MP through local mode: throughput and orchestration share
report     the targets, PASS/FAIL, and the markdown table
"""
