"""Subcommands of `speurder` that live in their own module, registered in `search_api.cli`."""
