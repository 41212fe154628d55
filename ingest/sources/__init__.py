"""Registers into the unified index through declarative mappings (docs/registers.md).

`mapping` loads and validates a register's YAML mapping; `readers` stream an export's rows with their
line numbers; `transforms` are the named conversions a mapping may apply; `engine` turns one row into a
`Record`; `run` takes a whole export into the index and reports what became of every row.
"""
