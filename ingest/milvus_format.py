"""The contract of a Milvus index: how it is named, its collections, their schemas and build parameters.

The Milvus writer (:mod:`ingest.milvus_sink`) and reader (:mod:`qa.milvus_reader`) both import this
module and nothing else of each other, as :mod:`ingest.index_format` is for the local index. An index
is four collections named ``<name>_meta``, ``_reports``, ``_paragraphs`` and ``_windows``:

* ``meta``: one row (id 0) holding the manifest as JSON: format, build parameters (model, dimension,
  windowing, as :class:`ingest.index_format.BuildParams`), generation (a counter raised by each commit),
  counts, times, and the next free report, paragraph and window ids.
* ``reports``: one row per indexed report (the ``reports`` columns of the local index, ``sha256`` for
  incremental re-runs, ``numbered``: how many numbered paragraphs), and one per file recognised as a
  duplicate (``duplicate_of`` set, nothing else indexed).
* ``paragraphs``: the paragraph rows; ``lex`` is the text, heading and report title analysed as the local
  index's FTS5 analyses them (:func:`analyse`) and ``sparse`` its BM25 vector, made by Milvus's BM25
  function.
* ``windows``: each embedded window with its unit vector (``vector``, exact inner-product search).

Milvus requires a vector field in every collection: ``meta`` and ``reports`` carry a 2-d placeholder.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.errors import CouncilQAError

PREFIX = "milvus:"
DEFAULT_NAME = "council_qa"
FORMAT_NAME = "council-qa-milvus"
FORMAT_VERSION = 1
TEXT_MAX = 65535
"""Milvus's longest VARCHAR (bytes); the segmenter cuts paragraphs near 1,000 words (about 7 kB)."""
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
"""The local index's FTS5 tokenizer (``ingest.index_format.SCHEMA``): the lexical side of a Milvus
index is analysed by the same one, so both backends match the same stemmed terms."""
BM25_PARAMS = {"bm25_k1": 1.2, "bm25_b": 0.75}
"""FTS5's BM25 constants, so Milvus scores terms alike (Milvus Lite's own default k1 is 1.5)."""
QUERY_BATCH = 1000
PLACEHOLDER_DIM = 2


class MilvusUnavailable(CouncilQAError):
    """pymilvus missing, a server that cannot be reached, or a Milvus Lite file in use."""


@dataclass(frozen=True)
class MilvusSpec:
    """Where a Milvus index lives: ``uri`` for ``MilvusClient`` and the collections' name prefix."""

    uri: str
    name: str
    label: str

    def collection(self, kind: str) -> str:
        return f"{self.name}_{kind}"


def is_milvus(spec: object) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse_spec(spec: str) -> MilvusSpec:
    """``milvus:PATH.db`` (Milvus Lite, a local file) or ``milvus://HOST:PORT/COLLECTION`` (a server)."""
    rest = spec[len(PREFIX):]
    if rest.startswith("//"):
        match = re.fullmatch(r"//([^/:]+):(\d+)(?:/(\w+))?/?", rest)
        if not match:
            raise CouncilQAError(f"{spec}: a Milvus server is milvus://HOST:PORT/COLLECTION")
        host, port, name = match.groups()
        return MilvusSpec(f"http://{host}:{port}", name or DEFAULT_NAME, spec)
    if not rest.endswith(".db"):
        raise CouncilQAError(f"{spec}: a Milvus Lite index is milvus:FILE.db")
    return MilvusSpec(rest, DEFAULT_NAME, spec)


def connect(spec: MilvusSpec):  # noqa: ANN201 - a pymilvus.MilvusClient
    """A client for ``spec``; one-line errors when pymilvus is missing or the server is unreachable."""
    # gRPC core's own notes (fork handlers, keepalive pings) are not for the user; errors still raise.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusUnavailable(f"{spec.label}: pymilvus is not installed (pip install pymilvus milvus-lite)") \
            from exc
    import logging

    # Errors reach the user once, as one line: not also as pymilvus's log, nor as Milvus Lite's in-process
    # server's log of RPCs it lacks (AllocTimestamp, which pymilvus's query iterator tries first).
    for name in ("pymilvus", "grpc._server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=spec.uri, timeout=30)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises many kinds; each becomes one line
        raise MilvusUnavailable(f"{spec.label}: cannot open Milvus ({' '.join(str(exc).split())[:200]})") from exc


def analyse(texts: Sequence[str]) -> list[str]:
    """Each text as the local index's FTS5 tokenizer sees it: its stemmed terms, space-separated.

    Milvus Lite's analyzer has no stemmer (only ``standard`` and ``jieba``; a ``stemmer`` filter is
    ignored), and a cluster's ``english`` analyzer stems differently from FTS5's Porter: analysing here
    gives both backends the same terms, and Milvus's standard analyzer only splits them on spaces."""
    if not texts:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{FTS_TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", ((i, t) for i, t in enumerate(texts, 1)))
        terms: list[list[str]] = [[] for _ in texts]
        for term, doc in conn.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
            terms[doc - 1].append(term)
    finally:
        conn.close()
    return [" ".join(t) for t in terms]


def schemas(dimension: int) -> dict[str, tuple[object, object]]:
    """(schema, index params) of each collection, for vectors of ``dimension``."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    def new(*fields: tuple) -> object:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        for name, dtype, extra in fields:
            schema.add_field(name, dtype, **extra)
        return schema

    text = {"max_length": TEXT_MAX}
    integer = (DataType.INT64, {})
    placeholder = ("_v", DataType.FLOAT_VECTOR, {"dim": PLACEHOLDER_DIM})
    meta = new(("manifest", DataType.VARCHAR, text), placeholder)
    reports = new(*[(c, DataType.VARCHAR, text) for c in REPORT_TEXT], *[(c, *integer) for c in REPORT_INTS],
                  placeholder)
    paragraphs = new(*[(c, *integer) for c in PARAGRAPH_INTS], *[(c, DataType.VARCHAR, text) for c in PARAGRAPH_TEXT],
                     ("lex", DataType.VARCHAR, {**text, "enable_analyzer": True, "enable_match": True,
                                                "analyzer_params": {"tokenizer": "standard"}}),
                     ("sparse", DataType.SPARSE_FLOAT_VECTOR, {}))
    paragraphs.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["lex"], output_field_names=["sparse"]))
    windows = new(("paragraph_id", *integer), ("report_id", *integer), ("seq", *integer),
                  ("text", DataType.VARCHAR, text), ("vector", DataType.FLOAT_VECTOR, {"dim": dimension}))
    out = {}
    for kind, schema, field, index, metric, params in (
        ("meta", meta, "_v", "FLAT", "IP", {}), ("reports", reports, "_v", "FLAT", "IP", {}),
        ("paragraphs", paragraphs, "sparse", "SPARSE_INVERTED_INDEX", "BM25", BM25_PARAMS),
        ("windows", windows, "vector", "FLAT", "IP", {}),
    ):
        index_params = MilvusClient.prepare_index_params()
        index_params.add_index(field_name=field, index_type=index, metric_type=metric, params=params)
        out[kind] = (schema, index_params)
    return out


REPORT_TEXT = ("source", "path", "sha256", "title", "date", "council", "meeting", "committee", "meeting_date",
               "item", "listings", "meta_sources", "doubtful", "ingested_at", "duplicate_of")
REPORT_INTS = ("pages", "paragraphs", "numbered")
PARAGRAPH_INTS = ("report_id", "seq", "page", "numbered", "scanned", "tabular", "words", "same_label",
                  "lex_len", "lex_text_len", "lex_heading_len")
"""``same_label``: how many paragraphs of its report share its label (or the printed paragraph it
was cut from), counted at ingest as the local reader counts them per query. ``lex`` holds the
analysed text, heading and report title in that order: ``lex_len`` terms in all, the first
``lex_text_len`` from the text, the next ``lex_heading_len`` from the heading (the columns FTS5
weighs apart). The manifest's ``lex_tokens`` is their sum over the index."""
PARAGRAPH_TEXT = ("label", "heading", "text", "part_of", "text_hash")
KINDS = ("meta", "reports", "paragraphs", "windows")
PLACEHOLDER = [0.0, 0.0]


def query_all(client, collection: str, filter: str, fields: Sequence[str]) -> Iterator[dict]:  # noqa: ANN001, A002
    """Every row matching ``filter`` (a query iterator: no 16,384-row cap)."""
    iterator = client.query_iterator(collection, batch_size=QUERY_BATCH, filter=filter, output_fields=list(fields))
    try:
        while True:
            rows = iterator.next()
            if not rows:
                return
            yield from rows
    finally:
        iterator.close()


def read_meta(client, spec: MilvusSpec) -> dict | None:  # noqa: ANN001
    """The manifest of the Milvus index ``spec``; None when none has been committed there."""
    name = spec.collection("meta")
    if not client.has_collection(name):
        return None
    for kind in KINDS:  # a Milvus Lite file reopened has its collections released; a server's stay loaded
        if client.has_collection(spec.collection(kind)):
            client.load_collection(spec.collection(kind))
    rows = client.query(name, filter="id == 0", output_fields=["manifest"])
    if not rows:
        return None
    manifest = json.loads(rows[0]["manifest"])
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") != FORMAT_VERSION:
        raise CouncilQAError(f"{spec.label}: not a council-qa Milvus index of format version {FORMAT_VERSION}; "
                             "rebuild it under another collection name or file")
    return manifest


def id_list(ids: Sequence[int]) -> str:
    """``[1,2,3]`` for a Milvus ``in`` expression."""
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
