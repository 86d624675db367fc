"""What development, demos, benchmarks and tests share, below the fronts: the sample claims and
the human steps that drive them (scenarios), fresh copies of the sample policies, launching the
Temporal dev server (devserver), and the real cluster on PostgreSQL (cluster, postgres, gobuild,
certs). The CLI, bench/, scripts/ and tests/ take samples only from here."""
