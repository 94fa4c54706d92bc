"""Optional LLM-judged faithfulness through RAGAS.

RAGAS is not in requirements.txt: the Answer section offers this score only when the package
imports, and shows the heuristic grounding check (core.answer) either way. The judge is a chat
model built by core.providers, so the same provider that wrote the answer checks its claims.
"""
from __future__ import annotations

from core.providers import integration_importable


def ragas_available() -> bool:
    return integration_importable("ragas")


def ragas_faithfulness(chat_model, *, question: str, answer: str, contexts: list[str]) -> float:
    """RAGAS's faithfulness (an LLM judges each claim against the contexts), 0..1.

    Costs extra provider calls. Raises RuntimeError with a clear message when the installed ragas
    does not offer the API used here.
    """
    import asyncio

    try:
        from ragas import SingleTurnSample
        from ragas.llms import LangchainLLMWrapper
        from ragas.metrics import Faithfulness
    except ImportError as exc:
        raise RuntimeError(f"This version of ragas is not supported here ({exc}).") from exc
    scorer = Faithfulness(llm=LangchainLLMWrapper(chat_model))
    sample = SingleTurnSample(user_input=question, response=answer, retrieved_contexts=contexts)
    return float(asyncio.run(scorer.single_turn_ascore(sample)))
