"""Cost model for RAG, fine-tuning and the hybrid of both.

Every approach is reduced to one-off costs (paid in month 0), a fixed monthly cost, and a cost per
question. That shape answers every question the cost page asks: the first month's bill, the cost
per question, a cumulative curve over the horizon (queries may grow month by month), the month in
which fine-tuning's total drops below RAG's for good, and the monthly query volume at which the two
cost the same.

Modelling choices (shown on the page too):
- RAG prompt = instructions + question + K retrieved chunks; the answer is billed as output.
- Fine-tuned prompt = short instructions + question: behaviour is trained in, knowledge is not
  retrieved. Knowledge that changes is paid for through retraining every N months (0 = never).
- Hybrid = the tuned model's prices on RAG's prompt, plus RAG's embedding and vector store. It is
  trained once; knowledge updates go through the index, so no retraining is charged.
- Embedding: the corpus once up front, then every month the changed share plus every question.
- Engineering time (optional) is hours x rate: build hours up front, maintenance hours monthly;
  the hybrid pays for both pipelines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from core.prices import PER_MTOK  # every USD token price in the app is per this many tokens

VOLUME_RANGE = (1_000, 100_000_000)  # queries per month covered by the volume analysis
# Engineering time: counted only when the Costs page's switch is on (its inputs are zero otherwise).
ENGINEERING = ("hourly_rate", "rag_build_hours", "rag_maintain_hours", "ft_build_hours", "ft_maintain_hours")
ENGINEERING_OFF = "Not counted: engineering time is switched off"

# The approach ids: core.decision's verdicts use these too, so one id means one approach everywhere.
RAG = "rag"
FINE_TUNING = "fine_tuning"
HYBRID = "hybrid"
NAMES = {RAG: "RAG", FINE_TUNING: "Fine-tuning", HYBRID: "Hybrid"}


@dataclass(frozen=True)
class Limit:
    label: str
    lo: float            # smallest allowed value
    hi: float            # largest value we believe is not a typo
    unit: str
    hint: str = ""
    integer: bool = False


LIMITS: dict[str, Limit] = {
    "queries_per_month": Limit("Queries per month", 1, 10_000_000_000, "queries",
                               "Enter how many questions users ask in a month.", True),
    "monthly_growth_pct": Limit("Monthly growth", -50, 100, "%",
                                "Use a percentage such as 5 for 5% more queries every month."),
    "question_tokens": Limit("Question tokens", 1, 100_000, "tokens",
                             "A typical question is 20-100 tokens.", True),
    "instruction_tokens": Limit("Instruction tokens (RAG)", 0, 200_000, "tokens",
                                "The system prompt sent with every question.", True),
    "answer_tokens": Limit("Answer tokens", 1, 100_000, "tokens",
                           "Every question produces some answer; 100-300 tokens is typical.", True),
    "retrieval_k": Limit("Retrieved chunks (K)", 1, 100, "chunks",
                         "RAG sends at least one chunk; 3-10 is typical.", True),
    "chunk_tokens": Limit("Tokens per chunk", 1, 20_000, "tokens",
                          "Chunks are usually 100-1,000 tokens."),
    "llm_input_per_mtok": Limit("LLM input price", 0, 1_000, "USD per 1M tokens",
                                "List prices are quoted per million tokens, e.g. 0.15."),
    "llm_output_per_mtok": Limit("LLM output price", 0, 1_000, "USD per 1M tokens",
                                 "List prices are quoted per million tokens, e.g. 0.60."),
    "embedding_per_mtok": Limit("Embedding price", 0, 100, "USD per 1M tokens",
                                "Hosted embedding models cost cents per million tokens, e.g. 0.02."),
    "corpus_tokens": Limit("Corpus size", 0, 1_000_000_000_000, "tokens",
                           "The total tokens of every document you index.", True),
    "corpus_change_pct": Limit("Corpus changing per month", 0, 100, "%",
                               "The share of the corpus re-embedded every month, 0-100."),
    "vector_db_monthly": Limit("Vector database", 0, 1_000_000, "USD per month",
                               "Serverless stores cost $0-70 a month for a mid-size index."),
    "training_per_mtok": Limit("Training price", 0, 1_000, "USD per 1M training tokens",
                               "e.g. 3.00 for gpt-4o-mini."),
    "training_tokens": Limit("Training tokens per epoch", 1, 10_000_000_000, "tokens",
                             "The token count of the training file; a run needs at least one token.", True),
    "epochs": Limit("Epochs", 1, 100, "epochs", "Hosted fine-tuning usually runs 3-4 epochs.", True),
    "retrain_every_months": Limit("Retrain every", 0, 120, "months",
                                  "Use 0 for never, or how many months pass between retraining runs.", True),
    "ft_input_per_mtok": Limit("Fine-tuned input price", 0, 1_000, "USD per 1M tokens",
                               "Tuned models usually cost more per token than their base model."),
    "ft_output_per_mtok": Limit("Fine-tuned output price", 0, 1_000, "USD per 1M tokens",
                                "Tuned models usually cost more per token than their base model."),
    "ft_instruction_tokens": Limit("Instruction tokens (fine-tuned)", 0, 200_000, "tokens",
                                   "Tuned models need only a short system prompt.", True),
    "hourly_rate": Limit("Engineering rate", 0, 10_000, "USD per hour", "A loaded hourly cost, e.g. 100."),
    "rag_build_hours": Limit("RAG build hours", 0, 100_000, "hours", "One-off hours to build the pipeline."),
    "rag_maintain_hours": Limit("RAG upkeep hours", 0, 10_000, "hours per month", "Hours spent every month."),
    "ft_build_hours": Limit("Fine-tuning build hours", 0, 100_000, "hours",
                            "One-off hours, including building the training data."),
    "ft_maintain_hours": Limit("Fine-tuning upkeep hours", 0, 10_000, "hours per month",
                               "Hours spent every month."),
    "horizon_months": Limit("Horizon", 1, 120, "months", "How many months to project.", True),
}
# The largest prompt any current model accepts; more means a typo in K or chunk size.
MAX_PROMPT_TOKENS = 2_000_000


@dataclass(frozen=True, kw_only=True)
class CostInputs:
    """Everything the cost model needs. Defaults are the REFERENCE.md worked example."""

    # workload
    queries_per_month: int = 100_000
    monthly_growth_pct: float = 0.0
    question_tokens: int = 50
    instruction_tokens: int = 300
    answer_tokens: int = 150
    retrieval_k: int = 5
    chunk_tokens: float = 300.0
    # base model
    llm_input_per_mtok: float = 0.15
    llm_output_per_mtok: float = 0.60
    # RAG
    embedding_per_mtok: float = 0.02
    corpus_tokens: int = 100_000_000
    corpus_change_pct: float = 5.0
    vector_db_monthly: float = 50.0
    # fine-tuning
    training_per_mtok: float = 3.00
    training_tokens: int = 1_000_000
    epochs: int = 3
    retrain_every_months: int = 0
    ft_input_per_mtok: float = 0.30
    ft_output_per_mtok: float = 1.20
    ft_instruction_tokens: int = 100
    # engineering (optional)
    hourly_rate: float = 0.0
    rag_build_hours: float = 0.0
    rag_maintain_hours: float = 0.0
    ft_build_hours: float = 0.0
    ft_maintain_hours: float = 0.0
    horizon_months: int = 24

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name), LIMITS[f.name])
        if self.rag_input_tokens > MAX_PROMPT_TOKENS:
            raise ValueError(
                f"A RAG prompt of {self.rag_input_tokens:,.0f} tokens (K x chunk tokens + question + "
                f"instructions) is more than any model accepts ({MAX_PROMPT_TOKENS:,}). Lower K or the "
                "chunk size."
            )

    @property
    def rag_input_tokens(self) -> float:
        return self.instruction_tokens + self.question_tokens + self.retrieval_k * self.chunk_tokens

    @property
    def rag_tokens_per_query(self) -> float:
        return self.rag_input_tokens + self.answer_tokens

    @property
    def ft_input_tokens(self) -> float:
        return self.ft_instruction_tokens + self.question_tokens

    @property
    def hybrid_input_tokens(self) -> float:
        return self.ft_instruction_tokens + self.question_tokens + self.retrieval_k * self.chunk_tokens

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check(name: str, value: object, limit: Limit) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{limit.label} must be a number; got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{limit.label} must be a finite number; got {value}.")
    if limit.integer and value != int(value):
        raise ValueError(f"{limit.label} must be a whole number of {limit.unit}; got {value}.")
    if value < 0 and limit.lo >= 0:
        raise ValueError(f"{limit.label} cannot be negative (got {value:,}). {limit.hint}".strip())
    if value < limit.lo:
        if value == 0:
            raise ValueError(f"{limit.label} cannot be zero. {limit.hint}".strip())
        raise ValueError(f"{limit.label} must be at least {_amount(limit.lo, limit.unit)}; got {value:,}. "
                         f"{limit.hint}".strip())
    if value > limit.hi:
        raise ValueError(f"{limit.label} of {_amount(value, limit.unit)} looks like a typo: the calculator "
                         f"accepts at most {_amount(limit.hi, limit.unit)}. {limit.hint}".strip())


def _amount(value: float, unit: str) -> str:
    return f"{value:,}%" if unit == "%" else f"{value:,} {unit}"


def token_cost(tokens: float, price_per_mtok: float) -> float:
    """USD for `tokens` at `price_per_mtok` USD per million tokens."""
    return tokens * price_per_mtok / PER_MTOK


def training_run_cost(*, tokens: float, epochs: int, price_per_mtok: float) -> float:
    """One training run: every epoch reads the whole file, and every token read is billed."""
    if tokens < 0 or epochs < 1 or price_per_mtok < 0:
        raise ValueError("Training tokens and price cannot be negative, and a run has at least one epoch.")
    return token_cost(tokens * epochs, price_per_mtok)


@dataclass(frozen=True)
class LineItem:
    label: str
    amount: float


@dataclass(frozen=True)
class ApproachCost:
    """One approach's costs; `monthly` items are for the first month's query volume."""

    approach: str
    upfront: tuple[LineItem, ...]
    monthly: tuple[LineItem, ...]
    fixed_monthly: float          # monthly costs that do not depend on volume
    per_query: float              # variable cost of one question
    lump_every_months: int        # retraining paid in these months (0 = never)
    lump: float                   # cost of one retraining
    queries: int                  # first month's volume
    cumulative: tuple[float, ...]  # total spent by the end of month 0..horizon

    @property
    def name(self) -> str:
        return NAMES[self.approach]

    @property
    def upfront_total(self) -> float:
        return sum(i.amount for i in self.upfront)

    @property
    def monthly_total(self) -> float:
        return sum(i.amount for i in self.monthly)

    @property
    def cost_per_query(self) -> float:
        return self.monthly_total / self.queries

    def monthly_at(self, queries: float, *, horizon: int) -> float:
        """Steady monthly cost at `queries` a month, with one-off costs spread over the horizon."""
        retrain = self.lump / self.lump_every_months if self.lump_every_months else 0.0
        return self.fixed_monthly + retrain + self.upfront_total / horizon + self.per_query * queries


@dataclass(frozen=True)
class VolumeBreakEven:
    queries: float | None  # monthly volume where fine-tuning and RAG cost the same, if in range
    statement: str


@dataclass(frozen=True)
class CostComparison:
    inputs: CostInputs
    rag: ApproachCost
    fine_tuning: ApproachCost
    hybrid: ApproachCost
    break_even_month: int | None
    month_statement: str
    volume: VolumeBreakEven

    @property
    def approaches(self) -> tuple[ApproachCost, ApproachCost, ApproachCost]:
        return (self.rag, self.fine_tuning, self.hybrid)

    @property
    def months(self) -> tuple[int, ...]:
        return tuple(range(self.inputs.horizon_months + 1))


def queries_in_month(inputs: CostInputs, month: int) -> float:
    """Queries in month 1..horizon, growing by the monthly growth rate from month 1's volume."""
    return inputs.queries_per_month * (1 + inputs.monthly_growth_pct / 100) ** (month - 1)


def _engineering(hours: float, inputs: CostInputs) -> float:
    return hours * inputs.hourly_rate


def rag_cost(inputs: CostInputs) -> ApproachCost:
    i = inputs
    llm = token_cost(i.rag_input_tokens, i.llm_input_per_mtok) + token_cost(i.answer_tokens, i.llm_output_per_mtok)
    query_embed = token_cost(i.question_tokens, i.embedding_per_mtok)
    reembed = token_cost(i.corpus_tokens * i.corpus_change_pct / 100, i.embedding_per_mtok)
    upkeep = _engineering(i.rag_maintain_hours, i)
    upfront = (
        LineItem("Embed the corpus once", token_cost(i.corpus_tokens, i.embedding_per_mtok)),
        LineItem("Engineering: build", _engineering(i.rag_build_hours, i)),
    )
    monthly = (
        LineItem("LLM calls (prompt with retrieved chunks)", llm * i.queries_per_month),
        LineItem("Embedding questions", query_embed * i.queries_per_month),
        LineItem("Re-embedding changed documents", reembed),
        LineItem("Vector database", i.vector_db_monthly),
        LineItem("Engineering: upkeep", upkeep),
    )
    return _approach(RAG, i, upfront, monthly, fixed=reembed + i.vector_db_monthly + upkeep,
                     per_query=llm + query_embed, lump=0.0, every=0)


def training_cost(inputs: CostInputs) -> float:
    return training_run_cost(tokens=inputs.training_tokens, epochs=inputs.epochs,
                             price_per_mtok=inputs.training_per_mtok)


def fine_tuning_cost(inputs: CostInputs) -> ApproachCost:
    i = inputs
    llm = token_cost(i.ft_input_tokens, i.ft_input_per_mtok) + token_cost(i.answer_tokens, i.ft_output_per_mtok)
    run = training_cost(i)
    every = i.retrain_every_months
    upkeep = _engineering(i.ft_maintain_hours, i)
    upfront = (
        LineItem("First training run", run),
        LineItem("Engineering: build (incl. training data)", _engineering(i.ft_build_hours, i)),
    )
    monthly = (
        LineItem("Fine-tuned model calls (no retrieved context)", llm * i.queries_per_month),
        LineItem("Retraining, averaged per month", run / every if every else 0.0),
        LineItem("Engineering: upkeep", upkeep),
    )
    return _approach(FINE_TUNING, i, upfront, monthly, fixed=upkeep, per_query=llm, lump=run, every=every)


def hybrid_cost(inputs: CostInputs) -> ApproachCost:
    i = inputs
    llm = (token_cost(i.hybrid_input_tokens, i.ft_input_per_mtok)
           + token_cost(i.answer_tokens, i.ft_output_per_mtok))
    query_embed = token_cost(i.question_tokens, i.embedding_per_mtok)
    reembed = token_cost(i.corpus_tokens * i.corpus_change_pct / 100, i.embedding_per_mtok)
    upkeep = _engineering(i.rag_maintain_hours + i.ft_maintain_hours, i)
    upfront = (
        LineItem("Training run", training_cost(i)),
        LineItem("Embed the corpus once", token_cost(i.corpus_tokens, i.embedding_per_mtok)),
        LineItem("Engineering: build both pipelines", _engineering(i.rag_build_hours + i.ft_build_hours, i)),
    )
    monthly = (
        LineItem("Fine-tuned model calls with retrieved chunks", llm * i.queries_per_month),
        LineItem("Embedding questions", query_embed * i.queries_per_month),
        LineItem("Re-embedding changed documents", reembed),
        LineItem("Vector database", i.vector_db_monthly),
        LineItem("Engineering: upkeep of both", upkeep),
    )
    return _approach(HYBRID, i, upfront, monthly, fixed=reembed + i.vector_db_monthly + upkeep,
                     per_query=llm + query_embed, lump=0.0, every=0)


def _approach(approach: str, i: CostInputs, upfront: tuple[LineItem, ...], monthly: tuple[LineItem, ...], *,
              fixed: float, per_query: float, lump: float, every: int) -> ApproachCost:
    total = sum(item.amount for item in upfront)
    cumulative = [total]
    for month in range(1, i.horizon_months + 1):
        total += fixed + per_query * queries_in_month(i, month)
        if every and month % every == 0:
            total += lump
        cumulative.append(total)
    return ApproachCost(approach, upfront, monthly, fixed, per_query, every, lump, i.queries_per_month,
                        tuple(cumulative))


def break_even_month(rag: ApproachCost, fine_tuning: ApproachCost) -> int | None:
    """First month from which fine-tuning's running total stays at or below RAG's to the horizon."""
    month = None
    for m in range(len(rag.cumulative) - 1, -1, -1):
        if fine_tuning.cumulative[m] <= rag.cumulative[m] + 1e-9:
            month = m
        else:
            break
    return month


def _month_statement(month: int | None, horizon: int) -> str:
    if month is None:
        return f"Within {horizon} months fine-tuning's total never drops below RAG's."
    if month == 0:
        return f"Fine-tuning costs less than RAG from the start and stays cheaper for all {horizon} months."
    return f"Fine-tuning's running total drops below RAG's in month {month} and stays there."


def break_even_volume(rag: ApproachCost, fine_tuning: ApproachCost, *, horizon: int) -> VolumeBreakEven:
    """Monthly volume where the two cost the same (one-off costs spread over the horizon)."""
    lo, hi = VOLUME_RANGE
    r0, f0 = rag.monthly_at(0, horizon=horizon), fine_tuning.monthly_at(0, horizon=horizon)
    slope = rag.per_query - fine_tuning.per_query  # how much more RAG costs per extra question
    span = f"between {about(lo)} and {about(hi)} queries a month"
    if abs(slope) < 1e-15:
        cheaper = "Fine-tuning" if f0 < r0 else "RAG"
        return VolumeBreakEven(None, f"Both cost the same per question; {cheaper} is cheaper at every volume.")
    q = (f0 - r0) / slope
    if slope > 0:  # fine-tuning is cheaper per question: it wins above q
        if q <= lo:
            return VolumeBreakEven(None, f"Fine-tuning is cheaper at every volume {span}.")
        if q > hi:
            return VolumeBreakEven(None, f"RAG is cheaper at every volume {span}: fine-tuning never catches up.")
        return VolumeBreakEven(q, f"Fine-tuning becomes cheaper above about {about(q)} queries a month.")
    # fine-tuning costs more per question: it can only win below q
    if q <= lo:
        return VolumeBreakEven(None, f"RAG is cheaper at every volume {span}: fine-tuning never catches up.")
    if q > hi:
        return VolumeBreakEven(None, f"Fine-tuning is cheaper at every volume {span}.")
    return VolumeBreakEven(q, f"Fine-tuning is cheaper only below about {about(q)} queries a month.")


def compare(inputs: CostInputs) -> CostComparison:
    rag, ft, hybrid = rag_cost(inputs), fine_tuning_cost(inputs), hybrid_cost(inputs)
    month = break_even_month(rag, ft)
    return CostComparison(
        inputs=inputs,
        rag=rag,
        fine_tuning=ft,
        hybrid=hybrid,
        break_even_month=month,
        month_statement=_month_statement(month, inputs.horizon_months),
        volume=break_even_volume(rag, ft, horizon=inputs.horizon_months),
    )


def about(count: float, *, digits: int = 2) -> str:
    """A count estimated from estimates (prices, token counts, volumes), rounded to what those
    support: `digits` significant figures, millions and billions in words.
    3,279,558 -> "3.3 million"; 45,310 -> "45,000"; 1,000,000 -> "1 million"."""
    if count == 0 or not math.isfinite(count):
        return f"{count:,.0f}"
    word = ""
    for scale, name in ((1e9, " billion"), (1e6, " million")):
        if abs(round(count, digits - 1 - math.floor(math.log10(abs(count))))) >= scale:
            count, word = count / scale, name
            break
    places = digits - 1 - math.floor(math.log10(abs(count)))  # negative: round to tens, hundreds...
    text = f"{round(count, places):,.{max(0, places)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + word


def usd(amount: float, *, precise: bool = False) -> str:
    """Money as shown everywhere (page and report).

    Cents by default; amounts below a cent (or, with `precise`, below a dollar, as costs per query
    are) get three significant digits so they do not all read $0.00.
    """
    if amount != 0 and abs(amount) < (1 if precise else 0.01):
        digits = 2 - math.floor(math.log10(abs(amount)))
        return f"${amount:.{digits}f}" if amount > 0 else f"-${-amount:.{digits}f}"
    return f"${amount:,.2f}" if amount >= 0 else f"-${-amount:,.2f}"

