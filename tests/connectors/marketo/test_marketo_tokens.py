"""The token manager on a fake clock: fetched once, refreshed before expiry, a near-expiry token used to its end,
and a 601/602 refresh done once however many threads saw it."""

from __future__ import annotations

import httpx

from stackaudit_connectors.http.client import origin_of
from stackaudit_connectors.marketo.auth import MarketoAuth, TokenManager


class Identity:
    """Marketo's identity endpoint in miniature: the same token until it expires, then a new one."""

    def __init__(self, clock: list[float], ttl: float = 3600) -> None:
        self.clock = clock
        self.ttl = ttl
        self.issued = 0
        self.expires = -1.0

    def __call__(self) -> tuple[str, float, str | None]:
        now = self.clock[0]
        if now >= self.expires:
            self.issued += 1
            self.expires = now + self.ttl
        return f"token-{self.issued}", self.expires - now, "api@example.com"


def test_tokens_are_reused_then_refreshed_before_they_expire() -> None:
    clock = [0.0]
    identity = Identity(clock)
    tokens = TokenManager(identity, clock=lambda: clock[0], margin=60)
    assert tokens.ensure() == "token-1"
    clock[0] = 3500
    assert tokens.ensure() == "token-1" and tokens.fetches == 1  # still 100 s of life
    clock[0] = 3545
    # Within the margin: ask again. Marketo answers with the same token and its 55 s left; it is used to its end
    # rather than fetched on every call.
    assert tokens.ensure() == "token-1" and tokens.fetches == 2
    clock[0] = 3590
    assert tokens.ensure() == "token-1" and tokens.fetches == 2
    clock[0] = 3600
    assert tokens.ensure() == "token-2" and tokens.fetches == 3
    assert tokens.secrets() == ("token-1", "token-2")
    assert "token" not in repr(tokens).replace("TokenManager(token=", "")


def test_invalidate_refreshes_once_for_a_stale_token() -> None:
    clock = [0.0]
    identity = Identity(clock)
    tokens = TokenManager(identity, clock=lambda: clock[0])
    stale = tokens.ensure()
    identity.expires = 0  # revoked on Marketo's side
    assert tokens.invalidate(stale) == "token-2"
    assert tokens.invalidate(stale) == "token-2"  # a second thread with the same stale token: no new fetch
    assert tokens.fetches == 2


def test_auth_hook_signs_only_the_pinned_host_and_never_the_identity_call() -> None:
    clock = [0.0]
    tokens = TokenManager(Identity(clock), clock=lambda: clock[0])
    tokens.ensure()
    auth = MarketoAuth(tokens, origin_of(httpx.URL("https://123-abc-456.mktorest.com")))
    rest = next(auth.auth_flow(httpx.Request("GET", "https://123-abc-456.mktorest.com/rest/v1/leads/describe2.json")))
    ident = next(auth.auth_flow(httpx.Request("GET", "https://123-abc-456.mktorest.com/identity/oauth/token")))
    other = next(auth.auth_flow(httpx.Request("GET", "https://elsewhere.example.com/rest/v1/leads.json")))
    assert rest.headers["Authorization"] == "Bearer token-1"
    assert "Authorization" not in ident.headers and "Authorization" not in other.headers
    assert "token-1" not in repr(auth)
