"""council-qa ingest: read council reports into numbered paragraphs and build the index.

``ingest`` writes an index directory; ``qa`` only reads it. Nothing here imports ``qa``.
"""
