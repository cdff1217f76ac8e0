"""qbsf's application layer: the CLI, the runtime loop, the dashboard and the demo."""

# The registry of synced entities declares the mapping sheets every mapping load here uses.
import qbsf.sync.entities  # noqa: F401
