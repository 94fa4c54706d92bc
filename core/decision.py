"""The RAG-vs-fine-tuning decision flowchart as data, and its evaluation.

Five questions are asked in a fixed order. Every option records where it points (RAG, fine-tuning,
both, nowhere in particular, a hard stop, or a gate on fine-tuning) and why. `evaluate` walks the
answers along the flowchart, keeps what each answer contributed, names the places where answers
pull in different directions and resolves each of them with an explicit rule, so a page can show
how the verdict was reached and not only the verdict. `to_dot` draws the chart with the path the
answers took highlighted.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# core.costs owns the approach ids, so a verdict names the same approach the Costs page prices.
from core.costs import FINE_TUNING, HYBRID, RAG

# The examples rule of thumb is the readiness check's, so Q5 and that page quote the same numbers.
from core.finetune import GOOD_EXAMPLES, MIN_EXAMPLES

# Figures the questions, rules and comparison quote: each is stated here once.
LATENCY_LIMIT_MS = 300             # Q4's hard limit
RETRIEVAL_LATENCY = "50-200 ms"    # what a retrieval step typically adds
EXAMPLES = f"{MIN_EXAMPLES}-{GOOD_EXAMPLES}"  # clean labelled examples a first training run needs

# Where an option points.
TO_RAG = RAG
TO_FINE_TUNING = FINE_TUNING
TO_BOTH = "both"            # a need only the combination covers
NEUTRAL = "neutral"         # no preference either way
STOP_RAG = "stop_rag"       # settles the question on its own: RAG, nothing else asked
NEEDS_DATA = "needs_data"   # fine-tuning is not possible yet
DATA_OK = "data_ok"         # fine-tuning is possible
POINTS = (TO_RAG, TO_FINE_TUNING, TO_BOTH, NEUTRAL, STOP_RAG, NEEDS_DATA, DATA_OK)

# Outcomes: the three approaches (RAG, FINE_TUNING, HYBRID, from core.costs) and one more.
NOT_YET = "not_yet"


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    points_to: str
    reason: str

    def __post_init__(self) -> None:
        if self.points_to not in POINTS:
            raise ValueError(f"Option '{self.id}' points to unknown '{self.points_to}'.")


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    text: str
    help: str
    short: str  # label of the question's box in the diagram
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        valid = ", ".join(o.id for o in self.options)
        raise ValueError(f"'{option_id}' is not an answer to '{self.id}'. Valid answers: {valid}.")


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    summary: str
    next_steps: tuple[str, ...]


QUESTIONS: tuple[Question, ...] = (
    Question(
        id="changes",
        number=1,
        text="Does the knowledge the assistant needs change more often than once a month?",
        help="Prices, policies, product docs, tickets: anything that is edited weekly or daily counts as yes.",
        short="1. Knowledge changes\nmore than monthly?",
        options=(
            Option("yes", "Yes, it changes more often than monthly", STOP_RAG,
                   "Facts that move every few weeks would need a new training run every few weeks. "
                   "In an index an update is just a re-embed of the changed chunks, so RAG settles it."),
            Option("no", "No, it is stable for months at a time", NEUTRAL,
                   "Stable knowledge does not rule anything out: continue with the other questions."),
        ),
    ),
    Question(
        id="problem",
        number=2,
        text="What is wrong with the model's answers today: what it knows, or how it behaves?",
        help="'Knows' = it lacks your facts. 'Behaves' = the facts are fine but the format, tone, or "
             "task handling is not what you need.",
        short="2. Problem: what it knows\nor how it behaves?",
        options=(
            Option("knows", "What it knows: it lacks our facts", TO_RAG,
                   "Missing facts are a retrieval problem: put your documents in front of the model at "
                   "question time instead of hoping training makes it memorise them."),
            Option("behaves", "How it behaves: format, style, tone", TO_FINE_TUNING,
                   "Format, voice and task habits are exactly what training examples teach; prompts "
                   "only get you part of the way there."),
            Option("both", "Both", TO_BOTH,
                   "Missing facts call for retrieval and unwanted behaviour calls for training: one "
                   "approach alone covers only half of it."),
        ),
    ),
    Question(
        id="attribution",
        number=3,
        text="Must every answer point to the source passages it is based on?",
        help="Regulated answers, legal or medical Q&A, or any answer a person must be able to check.",
        short="3. Answers must\ncite sources?",
        options=(
            Option("yes", "Yes, answers must cite their sources", TO_RAG,
                   "Only retrieval knows which passage an answer came from; trained weights cannot "
                   "point back to a document."),
            Option("no", "No, citations are optional", NEUTRAL,
                   "Without a citation requirement this question does not favour either approach."),
        ),
    ),
    Question(
        id="latency",
        number=4,
        text=f"Is a response time under {LATENCY_LIMIT_MS} ms a hard requirement?",
        help="Hard means the product fails without it (autocomplete, voice, inline classification), not "
             "merely that faster is nicer.",
        short=f"4. Under {LATENCY_LIMIT_MS} ms\nis a hard limit?",
        options=(
            Option("yes", f"Yes, under {LATENCY_LIMIT_MS} ms or the product fails", TO_FINE_TUNING,
                   "A fine-tuned model answers without a lookup first; retrieval typically adds "
                   f"{RETRIEVAL_LATENCY} before the model even starts."),
            Option("no", "No, a few hundred ms more is acceptable", NEUTRAL,
                   "The extra retrieval step is affordable, so latency does not count against RAG."),
        ),
    ),
    Question(
        id="examples",
        number=5,
        text=f"Do you have at least {EXAMPLES} high-quality, labelled examples of ideal answers?",
        help="Clean input/output pairs you would be happy to see the model imitate. Fifty careful "
             "examples beat thousands of noisy ones.",
        short=f"5. {EXAMPLES} good\nlabelled examples?",
        options=(
            Option("yes", "Yes, we have them (or can write them now)", DATA_OK,
                   "Enough clean examples exist to make a training run worth trying."),
            Option("no", "No, not yet", NEEDS_DATA,
                   "Without a minimum of clean examples a training run learns noise; fine-tuning has "
                   "to wait until real usage provides the data."),
        ),
    ),
)

QUESTION_BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}

OUTCOMES: dict[str, Outcome] = {
    RAG: Outcome(
        RAG,
        "RAG",
        "Keep the knowledge outside the model: index your documents and retrieve the relevant chunks "
        "for every question.",
        ("Tune chunking and retrieval on the Chunking and Evaluate pages.",
         "Price the stack on the Costs page.",
         "Revisit fine-tuning only if behaviour, not knowledge, becomes the problem."),
    ),
    FINE_TUNING: Outcome(
        FINE_TUNING,
        "Fine-tuning",
        "Teach the behaviour with examples: train a model on your labelled data and skip retrieval.",
        ("Check the training file on the Fine-tuning readiness page.",
         "Hold out 10-15% of the examples and compare the tuned model with the base model on them.",
         "Price training, retraining and inference on the Costs page."),
    ),
    HYBRID: Outcome(
        HYBRID,
        "Hybrid: fine-tuning + RAG",
        "Fine-tune for how the model answers and retrieve for what it knows. It covers both needs, at "
        "the price of running two pipelines.",
        ("Build the RAG half first: it ships in days and produces the real questions you will train on.",
         "Add fine-tuning once logged usage gives you clean examples of the behaviour you want.",
         "Compare the hybrid's running cost with plain RAG on the Costs page."),
    ),
    NOT_YET: Outcome(
        NOT_YET,
        "Not yet: prompt engineering + RAG",
        "Fine-tuning is where you are heading, but there is not enough clean data to train on. Get as "
        "far as you can with careful prompts and retrieval, and collect examples as you go.",
        ("Write the wanted format and tone into the system prompt, with a few worked examples.",
         "Log real questions and corrected answers: they become the training set.",
         f"Come back to fine-tuning at {EXAMPLES} clean examples (check them on the readiness page)."),
    ),
}

# The resolution rules, in the order they are tried. Shown on the page so the verdict is auditable.
RULES: tuple[tuple[str, str], ...] = (
    ("stop", "Knowledge that changes more than monthly settles it: RAG."),
    ("data_gate", f"Anything pointing to fine-tuning without {EXAMPLES} clean examples: prompt engineering + "
                  "RAG first."),
    ("both", "The model lacks your facts and behaves wrongly: hybrid."),
    ("behaves_cites", "Behaviour needs fine-tuning but answers must cite sources: hybrid."),
    ("behaves", "Behaviour is the problem and nothing requires retrieval: fine-tuning."),
    ("knows", "Otherwise the problem is knowledge: RAG."),
)
RULE_TEXT: dict[str, str] = dict(RULES)


@dataclass(frozen=True)
class Contribution:
    question_id: str
    question: str
    answer_id: str
    answer: str
    points_to: str
    reason: str


@dataclass(frozen=True)
class Conflict:
    question_ids: tuple[str, ...]
    description: str
    resolution: str


@dataclass(frozen=True)
class Recommendation:
    """What the answers add up to. `outcome` is None until every question on the path is answered."""

    outcome: Outcome | None
    contributions: tuple[Contribution, ...]
    conflicts: tuple[Conflict, ...]
    rule: str | None             # id of the rule in RULES that decided, or None when incomplete
    next_question: str | None    # first unanswered question on the path
    not_reached: tuple[str, ...]  # questions the flowchart never asked (after a stop)

    @property
    def complete(self) -> bool:
        return self.outcome is not None

    @property
    def approach(self) -> str | None:
        return self.outcome.id if self.outcome else None

    @property
    def rule_text(self) -> str | None:
        return RULE_TEXT[self.rule] if self.rule else None

    def answered(self) -> dict[str, str]:
        return {c.question_id: c.answer_id for c in self.contributions}


def evaluate(answers: Mapping[str, str | None]) -> Recommendation:
    """Walk the flowchart with `answers` (question id -> option id; None or missing = unanswered)."""
    for qid, oid in answers.items():
        if qid not in QUESTION_BY_ID:
            raise ValueError(f"Unknown question '{qid}'. Questions: {', '.join(QUESTION_BY_ID)}.")
        if oid is not None:
            QUESTION_BY_ID[qid].option(oid)

    contributions: list[Contribution] = []
    for i, q in enumerate(QUESTIONS):
        oid = answers.get(q.id)
        if oid is None:
            return Recommendation(None, tuple(contributions), (), None, q.id, ())
        opt = q.option(oid)
        contributions.append(Contribution(q.id, q.text, opt.id, opt.label, opt.points_to, opt.reason))
        if opt.points_to == STOP_RAG:
            rest = tuple(later.id for later in QUESTIONS[i + 1:])
            return Recommendation(OUTCOMES[RAG], tuple(contributions), (), "stop", None, rest)

    chosen = {c.question_id: c.answer_id for c in contributions}
    outcome, rule = _resolve(chosen)
    return Recommendation(OUTCOMES[outcome], tuple(contributions), _conflicts(chosen, outcome), rule, None, ())


def _leaning(chosen: Mapping[str, str], towards: str) -> list[str]:
    """Questions whose answer points towards `towards` (TO_BOTH counts for either side)."""
    return [qid for qid, oid in chosen.items()
            if QUESTION_BY_ID[qid].option(oid).points_to in (towards, TO_BOTH)]


def _resolve(chosen: Mapping[str, str]) -> tuple[str, str]:
    if chosen["examples"] == "no" and _leaning(chosen, TO_FINE_TUNING):
        return NOT_YET, "data_gate"
    if chosen["problem"] == "both":
        return HYBRID, "both"
    if chosen["problem"] == "behaves":
        if chosen["attribution"] == "yes":
            return HYBRID, "behaves_cites"
        return FINE_TUNING, "behaves"
    return RAG, "knows"


def _names(qids: list[str]) -> str:
    labels = [f"Q{QUESTION_BY_ID[q].number}" for q in qids]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _conflicts(chosen: Mapping[str, str], outcome: str) -> tuple[Conflict, ...]:
    """Every pair of answers that pull apart, each with the way it was settled."""
    pro_ft = _leaning(chosen, TO_FINE_TUNING)
    pro_rag = _leaning(chosen, TO_RAG)
    found: list[Conflict] = []
    if chosen["examples"] == "no" and pro_ft:
        found.append(Conflict(
            tuple(pro_ft) + ("examples",),
            f"{_names(pro_ft)} point{'s' if len(pro_ft) == 1 else ''} to fine-tuning, but Q5 says there "
            f"are not yet {EXAMPLES} clean examples to train on.",
            "The data gate wins: a model trained on too few or noisy examples usually gets worse. Start "
            "with prompt engineering and RAG, log real conversations, and revisit fine-tuning once the "
            "examples exist.",
        ))
        return tuple(found)
    if chosen["problem"] == "both":
        found.append(Conflict(
            ("problem",),
            "Q2 names two different problems: missing facts (a job for retrieval) and unwanted "
            "behaviour (a job for training).",
            "Hybrid: fine-tune for the format and tone, retrieve for the facts. Build the retrieval "
            "half first and add the training half when real usage has produced examples.",
        ))
    if chosen["problem"] == "behaves" and chosen["attribution"] == "yes":
        found.append(Conflict(
            ("problem", "attribution"),
            "Q2 points to fine-tuning for behaviour, while Q3 needs cited sources, which only "
            "retrieval can provide.",
            "Hybrid: training shapes how answers read, retrieval supplies the passages they cite.",
        ))
    if chosen["latency"] == "yes" and outcome in (RAG, HYBRID):
        needs = [q for q in pro_rag if q != "latency"]
        found.append(Conflict(
            tuple(needs) + ("latency",),
            f"Q4's hard sub-{LATENCY_LIMIT_MS} ms limit points to fine-tuning, but {_names(needs)} can only be "
            f"met with a retrieval step, which typically adds {RETRIEVAL_LATENCY}.",
            "Retrieval stays, because the answers are wrong without it; treat latency as a budget "
            "instead: keep the index in memory, retrieve fewer chunks, cache frequent questions and "
            "stream the answer. Measure end-to-end latency before committing.",
        ))
    return tuple(found)


# --- diagram -------------------------------------------------------------------------------------

_OUTCOME_NODES = {RAG: "out_rag", FINE_TUNING: "out_fine_tuning", HYBRID: "out_hybrid", NOT_YET: "out_not_yet"}
# Outcome boxes carry short names (the page states the full title): four side by side must fit
# a narrow column.
_OUTCOME_LABELS = {RAG: "RAG", FINE_TUNING: "Fine-tuning", HYBRID: "Hybrid:\nFT + RAG",
                   NOT_YET: "Not yet:\nprompts + RAG"}
_EDGE_TEXT = {
    TO_RAG: "RAG", TO_FINE_TUNING: "fine-tuning", TO_BOTH: "hybrid", NEUTRAL: "no preference",
    STOP_RAG: "RAG, stop", NEEDS_DATA: "not yet", DATA_OK: "fine-tuning viable",
}
_ON, _OFF = "#1f6feb", "#9aa4b2"
# Streamlit's graphviz chart draws every text at 9.6 SVG units whatever the DOT says (its CSS
# sets the font size), then scales the SVG to the column. So the layout uses that size, and the
# chart is kept narrow (one edge between consecutive questions, wrapped labels) so that a ~415 px
# column scales it up to >= 12 px text at 1280 px wide.
_FONT = 'fontname="Helvetica", fontsize=10'


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(rec: Recommendation) -> str:
    """Graphviz DOT of the flowchart; the nodes and edges the answers took are drawn in colour.

    Consecutive questions are joined by one edge: labelled with the answer when there is one,
    with the possible answers when not. Q1's stop has its own edge, straight to RAG.
    """
    answered = rec.answered()
    lines = [
        "digraph decision {",
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.15, ranksep=0.22, margin=0];',
        f'  node [shape=box, style="rounded,filled", {_FONT}, margin="0.08,0.03", width=0, height=0, '
        f'color="{_OFF}", fontcolor="#333333", fillcolor="#f4f6f8"];',
        f'  edge [{_FONT}, color="{_OFF}", fontcolor="#666666", arrowsize=0.6];',
    ]

    def node(nid: str, label: str, on: bool, **extra: str) -> None:
        attrs = [f'label="{_dot_text(label)}"']
        if on:
            attrs.append(f'color="{_ON}", fillcolor="#dbe9ff", penwidth=2')
        attrs.extend(f"{k}={v}" for k, v in extra.items())
        lines.append(f"  {nid} [{', '.join(attrs)}];")

    def edge(src: str, dst: str, label: str, on: bool) -> None:
        style = f', color="{_ON}", fontcolor="{_ON}", penwidth=2.5' if on else ""
        lines.append(f'  {src} -> {dst} [label="{_dot_text(label)}"{style}];')

    reached = {QUESTIONS[0].id} | {c.question_id for c in rec.contributions}
    if rec.next_question:
        reached.add(rec.next_question)
    for q in QUESTIONS:
        node(f"q_{q.id}", q.short, q.id in reached and q.id not in rec.not_reached)
    resolved = rec.complete and rec.rule != "stop"
    node("resolve", "Weigh the\nanswers", resolved, shape="diamond", style='"filled"', margin="0")
    for oid in OUTCOMES:
        node(_OUTCOME_NODES[oid], _OUTCOME_LABELS[oid], rec.approach == oid)

    for i, q in enumerate(QUESTIONS):
        target = f"q_{QUESTIONS[i + 1].id}" if i + 1 < len(QUESTIONS) else "resolve"
        chosen = q.option(answered[q.id]) if q.id in answered else None
        for opt in q.options:
            if opt.points_to == STOP_RAG:
                edge(f"q_{q.id}", _OUTCOME_NODES[RAG], f"{opt.id}: {_EDGE_TEXT[opt.points_to]}", chosen == opt)
        onward = [opt for opt in q.options if opt.points_to != STOP_RAG]
        if chosen is not None and chosen in onward:
            edge(f"q_{q.id}", target, f"{chosen.id}: {_EDGE_TEXT[chosen.points_to]}", True)
        elif chosen is None:
            edge(f"q_{q.id}", target, " / ".join(opt.id for opt in onward), False)
        else:  # stopped here: the way on is not taken
            edge(f"q_{q.id}", target, "", False)
    for oid in OUTCOMES:
        edge("resolve", _OUTCOME_NODES[oid], "", resolved and rec.approach == oid)
    lines.append("}")
    return "\n".join(lines)


# --- comparison ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComparisonRow:
    dimension: str
    rag: str
    fine_tuning: str


COMPARISON: tuple[ComparisonRow, ...] = (
    ComparisonRow("Keeping knowledge current", "Update the documents and re-index; live within minutes",
                  "Only through another training run"),
    ComparisonRow("Cost to get started", "Low: embedding calls and a vector store",
                  "Medium to high: training compute plus building the dataset"),
    ComparisonRow("Cost per question", "Pays for retrieval and for the retrieved text in every prompt",
                  "Shorter prompts, so usually cheaper per question"),
    ComparisonRow("Risk of made-up answers", "Lower: answers lean on the retrieved passages",
                  "Higher unless the training data is curated with care"),
    ComparisonRow("Latency", f"One extra lookup, roughly {RETRIEVAL_LATENCY}",
                  "No lookup before the model starts"),
    ComparisonRow("Explaining an answer", "Can show the exact chunks it used",
                  "Changes are spread through the weights; nothing to point at"),
    ComparisonRow("Strongest at", "Changing knowledge, question answering, search",
                  "Output format, voice, narrow repeated tasks"),
    ComparisonRow("Typical time to first version", "Days", "One to three weeks"),
)

USE_CASES: dict[str, tuple[str, ...]] = {
    RAG: (
        "A support assistant over a product knowledge base that is edited every week.",
        "Search across internal wikis, documentation and chat history.",
        "Legal or medical questions where every answer has to show its source.",
        "Tip: if the whole knowledge base fits in the model's context window and never changes, a "
        "well-organised prompt may be all you need.",
    ),
    FINE_TUNING: (
        "Answers that must always match a strict JSON or XML schema.",
        "Writing consistently in a brand's voice.",
        "High-volume narrow tasks, such as sorting tickets into a fixed set of categories or pulling "
        "fields out of invoices.",
        "Distilling a large model into a small one that is several times cheaper to run.",
    ),
}
