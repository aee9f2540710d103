"""A film: its options, the pure request builders, the declared plan of its
stages and its manifest.

The plan (``plan.py``) is the one place that knows the stages; the in-process
runner (``deepflix.pipeline``), the job system, the API, the queue board and the
metrics all read it.
"""
