"""A film: its options, the pure request builders, the declared plan of its
stages, its manifest, and the in-process runner behind ``deepflix make``.

The plan (``plan.py``) is the one place that knows the stages; the runner here,
the job system, the API, the queue board and the metrics all read it.
"""
