"""What running the project on this machine needs below the fronts: the embedded and the real
Temporal servers, PostgreSQL, and the demo data the CLI, bench/, scripts/ and tests share."""
