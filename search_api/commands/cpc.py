"""`speurder cpc serve`: the reference Central Point of Contact of the National Bank, as its own process."""

from __future__ import annotations

from typing import Annotated

import typer

cpc_app = typer.Typer(help="The reference NBB Central Point of Contact (requisitions).", no_args_is_help=True)

PLACEHOLDER_TOKEN = "speurder-local-cpc-token"  # noqa: S105 - the development default production refuses


@cpc_app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="Loopback port (default: SPEURDER_CPC_PORT)")] = None,
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean otherwise")
    ] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="World seed (default: SPEURDER_CPC_SEED)")] = None,
    records: Annotated[
        int | None,
        typer.Option(help="World size, as `speurder generate --total` (default: SPEURDER_CPC_WORLD_RECORDS)"),
    ] = None,
    answer_delay: Annotated[float, typer.Option(help="Seconds before a request is answered")] = 0.0,
) -> None:
    """Serve the reference CPC: the generated world's accounts, behind the bearer token SPEURDER_CPC_TOKEN."""
    import uvicorn

    from ingest.settings import Settings
    from search_api.cpc_service import Registry, create_cpc_app

    settings = Settings()
    token = settings.cpc_token.get_secret_value()
    if settings.environment == "production" and token == PLACEHOLDER_TOKEN:
        typer.secho("set SPEURDER_CPC_TOKEN to a real secret in production", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    registry = Registry(
        seed if seed is not None else settings.cpc_seed, records or settings.cpc_world_records
    )
    typer.echo(f"reference CPC: {len(registry.by_number):,} subjects with accounts")
    app = create_cpc_app(token, registry, answer_delay=answer_delay)
    uvicorn.run(app, host=host, port=port or settings.cpc_port, log_level="info")
