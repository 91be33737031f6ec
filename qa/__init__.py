"""council-qa qa: retrieve, cite and answer from an index built by ``ingest``."""
