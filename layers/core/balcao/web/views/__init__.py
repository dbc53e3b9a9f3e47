"""Portal pages: each module renders one capability's pages on top of its use-cases (no HTTP in between)."""
