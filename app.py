"""Start the council-qa browser app: ``python app.py`` (same as ``council-qa serve``).

Environment: COUNCIL_QA_INDEX (default ./index), COUNCIL_QA_HOST (default 127.0.0.1),
COUNCIL_QA_PORT (default 7860). An empty index is built from ./corpus first.
"""

import os
from pathlib import Path

from qa.server import serve

if __name__ == "__main__":
    serve(
        Path(os.environ.get("COUNCIL_QA_INDEX") or "index"),
        corpus_dir=Path(__file__).resolve().parent / "corpus",
        host=os.environ.get("COUNCIL_QA_HOST") or "127.0.0.1",
        port=int(os.environ.get("COUNCIL_QA_PORT") or 7860),
    )
