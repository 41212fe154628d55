"""Sign-in through an OpenID Connect provider (optional): the provider says who, Speurder says what.

The provider authenticates; the account, its role, unit and grants stay local, so an identity the
provider knows but Speurder does not gets no access at all.
"""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuth

from ingest.settings import Settings

PROVIDER = "provider"


def make_oidc(settings: Settings) -> OAuth | None:
    """The OIDC client when a provider is configured, else None (local accounts only)."""
    if not settings.oidc_metadata_url:
        return None
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        server_metadata_url=settings.oidc_metadata_url,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": "openid profile email"},
    )
    return oauth
