"""On-device face pipeline: camera backends, detection, mesh, quality, liveness and matching.

Importing this package imports no camera library and loads no model; see ``pipeline``.
"""
