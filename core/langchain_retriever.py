"""A LangChain BaseRetriever over the explorer's Retriever, for use in any LangChain chain."""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from core.retrieval import RetrievalConfig, Retriever


class ExplorerRetriever(BaseRetriever):
    """Returns the top-K chunks as LangChain documents, with offsets and scores in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    config: RetrievalConfig = RetrievalConfig()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=hit.chunk.text,
                metadata={
                    "source": hit.chunk.doc,
                    "start_index": hit.chunk.start,
                    "end_index": hit.chunk.end,
                    "page": hit.chunk.page,
                    "section": hit.chunk.section,
                    "rank": hit.rank,
                    "score": hit.score,
                    # every stage's score, by stage name ("dense", "bm25", "rrf", ...)
                    **{e.stage: e.score for e in hit.evidence if e.score is not None},
                },
            )
            for hit in self.retriever.search(query, config=self.config)
        ]
