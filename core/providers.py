"""Optional LLM answer generation through LangChain chat-model integrations.

Nothing here is required: the app answers extractively without any of it. A provider is offered
only when its integration package imports (langchain-openai, langchain-anthropic, langchain-ollama
are deliberately not in requirements.txt) and it can be reached: an API key in the environment or
in Streamlit secrets for OpenAI and Anthropic, a server answering on localhost for Ollama.

API keys are looked up at the moment a model is built and handed straight to the client; they are
never returned, stored in results, logged, or put into an error message (errors are redacted).

Streaming is wrapped in `AnswerStream`, an iterator of text pieces for st.write_stream that never
raises: a provider failure (bad key, rate limit, timeout, no network) ends the stream and is kept
as a `ProviderError` with a message a person can act on, next to whatever text had arrived.

What an answer costs is priced in core.prices (`model_price`, `answer_cost`); the optional
LLM-judged faithfulness score lives in core.ragas_adapter.
"""
from __future__ import annotations

import importlib
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

OLLAMA_URL = "http://127.0.0.1:11434"
PROBE_TIMEOUT = 0.5  # seconds: a local server answers in milliseconds or is not there
REQUEST_TIMEOUT = 60.0
MAX_OUTPUT_TOKENS = 700


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    label: str
    module: str  # the integration package, imported only when needed
    pip_name: str
    key_names: tuple[str, ...]  # environment / secrets names of the API key (none: local server)
    models: tuple[str, ...]  # offered choices; Ollama lists the models the server has
    local: bool = False


PROVIDERS: dict[str, ProviderSpec] = {
    p.name: p
    for p in (
        ProviderSpec("openai", "OpenAI", "langchain_openai", "langchain-openai", ("OPENAI_API_KEY",),
                     ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o")),
        ProviderSpec("anthropic", "Anthropic", "langchain_anthropic", "langchain-anthropic", ("ANTHROPIC_API_KEY",),
                     ("claude-haiku-4-5", "claude-sonnet-4-5")),
        ProviderSpec("ollama", "Ollama (local)", "langchain_ollama", "langchain-ollama", (), (), local=True),
    )
}


@dataclass(frozen=True)
class ProviderStatus:
    spec: ProviderSpec
    available: bool
    reason: str  # why it is or is not offered; never contains a key
    models: tuple[str, ...]
    key_source: str = ""  # "environment" or "secrets" (where the key was found), "" for none


# --- discovery -----------------------------------------------------------------------------


@cache
def integration_importable(module: str) -> bool:
    """True when the integration package imports (checked once per process)."""
    try:
        importlib.import_module(module)
    except Exception:  # ImportError, or a broken install that fails while importing
        return False
    return True


def find_key(names: tuple[str, ...], *, environ: Mapping[str, str], secrets: Mapping[str, Any]) -> tuple[str, str]:
    """(key, where) for the first of `names` set in the environment, then in secrets; ("", "") if none."""
    for name in names:
        value = str(environ.get(name) or "").strip()
        if value:
            return value, "environment"
    for name in names:
        try:
            value = str(secrets.get(name) or "").strip()
        except Exception:  # st.secrets raises when no secrets file exists
            value = ""
        if value:
            return value, "secrets"
    return "", ""


def probe_ollama(base_url: str = OLLAMA_URL, *, timeout: float = PROBE_TIMEOUT) -> tuple[str, ...] | None:
    """Model names an Ollama server at `base_url` has, or None when none answers in `timeout`."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/api/tags", timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    return tuple(str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict) and (m.get("name") or m.get("model")))


def discover(
    *,
    environ: Mapping[str, str],
    secrets: Mapping[str, Any],
    ollama_models: tuple[str, ...] | None,
    importable: Callable[[str], bool] = integration_importable,
) -> list[ProviderStatus]:
    """Every known provider with whether it can be offered now, and why.

    `ollama_models` is the result of probe_ollama (the caller caches it: a probe per rerun would
    add its timeout to every interaction when no server runs).
    """
    out = []
    for spec in PROVIDERS.values():
        if not importable(spec.module):
            out.append(ProviderStatus(spec, False, f"`pip install {spec.pip_name}` to enable", ()))
            continue
        if spec.local:
            if ollama_models is None:
                out.append(ProviderStatus(spec, False, f"no Ollama server answered at {OLLAMA_URL}", ()))
            elif not ollama_models:
                out.append(ProviderStatus(spec, False, "the Ollama server has no models: `ollama pull` one", ()))
            else:
                out.append(ProviderStatus(spec, True, f"server at {OLLAMA_URL}", tuple(ollama_models)))
            continue
        _, where = find_key(spec.key_names, environ=environ, secrets=secrets)
        if where:
            out.append(ProviderStatus(spec, True, f"{spec.key_names[0]} found in {where}", spec.models, where))
        else:
            out.append(ProviderStatus(spec, False, f"set {spec.key_names[0]} (environment or Streamlit secrets)", ()))
    return out


# --- building a chat model -------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationConfig:
    provider: str
    model: str
    temperature: float = 0.0
    max_tokens: int = MAX_OUTPUT_TOKENS
    timeout: float = REQUEST_TIMEOUT

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"Unknown provider '{self.provider}'. Choose one of: {', '.join(PROVIDERS)}.")
        if not self.model.strip():
            raise ValueError("Choose a model.")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"Temperature must be between 0 and 2; got {self.temperature}.")
        if not 1 <= self.max_tokens <= 8192:
            raise ValueError(f"Max output tokens must be between 1 and 8192; got {self.max_tokens}.")
        if self.timeout <= 0:
            raise ValueError(f"The timeout must be positive; got {self.timeout}.")


def build_chat_model(
    config: GenerationConfig, *, environ: Mapping[str, str], secrets: Mapping[str, Any], ollama_url: str = OLLAMA_URL
):
    """The LangChain chat model for `config`; the key goes from its store straight to the client.

    One retry only: the page waits on this call, and a rate limit is better reported than hidden
    behind a minute of back-off.
    """
    spec = PROVIDERS[config.provider]
    key = ""
    if not spec.local:
        key, _ = find_key(spec.key_names, environ=environ, secrets=secrets)
        if not key:
            raise ProviderUnavailable(f"{spec.label} needs {spec.key_names[0]} in the environment or Streamlit secrets.")
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        raise ProviderUnavailable(f"{spec.label} needs its integration package: pip install {spec.pip_name}") from None
    common = dict(model=config.model, temperature=config.temperature)
    if spec.local:
        try:
            return module.ChatOllama(**common, base_url=ollama_url, num_predict=config.max_tokens,
                                     client_kwargs={"timeout": config.timeout})
        except (TypeError, ValueError):  # older releases without client_kwargs
            return module.ChatOllama(**common, base_url=ollama_url, num_predict=config.max_tokens)
    if config.provider == "openai":
        # stream_usage: the final chunk then carries the token counts the cost is computed from.
        return module.ChatOpenAI(**common, api_key=key, max_tokens=config.max_tokens, timeout=config.timeout,
                                 max_retries=1, stream_usage=True)
    return module.ChatAnthropic(**common, api_key=key, max_tokens=config.max_tokens, timeout=config.timeout,
                                max_retries=1)


class ProviderUnavailable(RuntimeError):
    """The chosen provider cannot be used now (no key, package missing)."""


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderError:
    kind: str  # auth | permission | rate_limit | timeout | connection | not_found | bad_request | server | unavailable | other
    message: str  # for people; redacted
    detail: str  # exception type and redacted text, for the "details" line
    retryable: bool


_ERROR_TEXT = {
    "auth": "The API key was rejected. Check that it is current and belongs to this provider.",
    "permission": "The API key is not allowed to use this model.",
    "rate_limit": "The provider's rate limit or quota was hit. Wait a little, or check the account's billing.",
    "timeout": "The provider did not answer in time. Try again, or pick a smaller model.",
    "connection": "The provider could not be reached: no network, a proxy, or the local server stopped.",
    "not_found": "The provider does not know this model. Pick another (for Ollama: `ollama pull` it first).",
    "bad_request": "The provider refused the request (often: the prompt is too long for this model).",
    "server": "The provider had an internal error. Try again in a moment.",
    "unavailable": "This provider is not available.",
    "other": "The answer could not be generated.",
}

# (class-name fragment, kind), checked against every class in the exception's MRO: this covers
# langchain-core's ModelError family and the SDKs' own classes without importing any SDK.
_BY_NAME = (
    ("authentication", "auth"),
    ("permissiondenied", "permission"),
    ("ratelimit", "rate_limit"),
    ("timeout", "timeout"),
    ("connect", "connection"),
    ("notfound", "not_found"),
    ("contextoverflow", "bad_request"),
    ("invalidrequest", "bad_request"),
    ("badrequest", "bad_request"),
    ("internalserver", "server"),
    ("overloaded", "server"),
    ("modelapierror", "server"),
    ("providerunavailable", "unavailable"),
)
_BY_STATUS = {401: "auth", 403: "permission", 404: "not_found", 408: "timeout", 400: "bad_request",
              413: "bad_request", 422: "bad_request", 429: "rate_limit", 529: "server"}
_RETRYABLE = {"rate_limit", "timeout", "connection", "server"}
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|[A-Za-z0-9_\-]{32,})\b")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every given secret and anything shaped like an API key replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)


def _status_of(exc: BaseException) -> int | None:
    for obj in (exc, getattr(exc, "response", None)):
        code = getattr(obj, "status_code", None)
        if isinstance(code, int):
            return code
    return None


def classify_error(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> ProviderError:
    """Turn any provider exception into a kind and a clear message, with keys redacted."""
    kind = None
    for cls in type(exc).__mro__:
        name = cls.__name__.lower()
        kind = next((k for fragment, k in _BY_NAME if fragment in name), None)
        if kind:
            break
    status = _status_of(exc)
    if kind is None and status is not None:
        kind = _BY_STATUS.get(status) or ("server" if status >= 500 else None)
    if kind is None and isinstance(exc, (TimeoutError,)):
        kind = "timeout"
    if kind is None and isinstance(exc, (ConnectionError, urllib.error.URLError)):
        kind = "connection"
    if kind is None:
        text = str(exc).lower()
        if "api key" in text or "api_key" in text or "unauthorized" in text:
            kind = "auth"
        elif "rate limit" in text or "quota" in text:
            kind = "rate_limit"
        elif "timed out" in text or "timeout" in text:
            kind = "timeout"
        elif "connection" in text or "resolve" in text or "unreachable" in text:
            kind = "connection"
    kind = kind or "other"
    raw = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    detail = redact(f"{type(exc).__name__}{' (HTTP ' + str(status) + ')' if status else ''}: {raw}".rstrip(": "), secrets)
    message = str(exc) if kind == "unavailable" and str(exc) else _ERROR_TEXT[kind]
    return ProviderError(kind=kind, message=redact(message, secrets), detail=detail, retryable=kind in _RETRYABLE)


# --- streaming -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    measured: bool  # True: reported by the provider; False: estimated with the local tokenizer


class AnswerStream:
    """Iterate for text pieces (what st.write_stream wants); afterwards read text, usage, error.

    Never raises while iterating: an exception from the provider ends the stream and is kept in
    `error`, so the page can show what arrived plus a clear message instead of a traceback.
    """

    def __init__(self, chat_model, prompt: str, *, secrets: tuple[str, ...] = ()) -> None:
        self._model = chat_model
        self._prompt = prompt
        self._secrets = secrets
        self.pieces: list[str] = []
        self.error: ProviderError | None = None
        self.seconds = 0.0
        self.first_token_seconds: float | None = None
        self._usage: dict[str, int] = {}
        self.done = False

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        try:
            for chunk in self._model.stream(self._prompt):
                usage = getattr(chunk, "usage_metadata", None)
                if usage:  # usually only the last chunk; summing is right if a provider splits it
                    for key in ("input_tokens", "output_tokens"):
                        self._usage[key] = self._usage.get(key, 0) + int(usage.get(key) or 0)
                piece = _text_of(chunk)
                if piece:
                    if self.first_token_seconds is None:
                        self.first_token_seconds = time.perf_counter() - started
                    self.pieces.append(piece)
                    yield piece
        except Exception as exc:  # every provider failure becomes a message, never a crash
            self.error = classify_error(exc, secrets=self._secrets)
        finally:
            self.seconds = time.perf_counter() - started
            self.done = True

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def usage(self, count_tokens: Callable[[str], int]) -> Usage:
        """Provider-reported token counts when it sent them, else an estimate from `count_tokens`."""
        if self._usage.get("input_tokens") or self._usage.get("output_tokens"):
            return Usage(self._usage.get("input_tokens", 0), self._usage.get("output_tokens", 0), True)
        return Usage(count_tokens(self._prompt), count_tokens(self.text), False)


def _text_of(chunk) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # Anthropic streams content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return ""
