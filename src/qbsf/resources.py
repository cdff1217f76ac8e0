"""The data files qbsf needs at run time, found the same way in a checkout and in an installed wheel.

A wheel carries them inside the package, under ``qbsf/_data/`` (the build rule in pyproject.toml copies whole
folders there: ``examples/mappings`` and the Salesforce package's ``salesforce/force-app`` tree, so files added to
either ship without a list to keep up to date). A checkout reads them where they are kept. Templates and static
files of the dashboard live inside the package already.

    example_mappings()     # the example mapping CSVs (the demo installs them)
    salesforce_objects()   # the SFDX objects folder the Salesforce emulator reads its custom objects from
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from qbsf.errors import ConfigError

_CHECKOUT = Path(__file__).resolve().parents[2]  # src/qbsf/resources.py → the checkout's root


def _packaged(*parts: str) -> Path | None:
    target = files("qbsf").joinpath("_data", *parts)
    # wheels install as plain folders, so the Traversable is a real path
    return Path(str(target)) if target.is_dir() else None


def _find(packaged: tuple[str, ...], checkout: tuple[str, ...]) -> Path | None:
    found = _packaged(*packaged)
    if found is not None:
        return found
    candidate = _CHECKOUT.joinpath(*checkout)
    return candidate if candidate.is_dir() else None


def example_mappings_dir() -> Path:
    """Where the example mapping CSVs are (the packaged folder, else the checkout's; it may be missing)."""
    return _find(("mappings",), ("examples", "mappings")) or _CHECKOUT / "examples" / "mappings"


def example_mappings() -> Path:
    """The example mapping CSVs (one per template sheet); refused when this installation lacks them."""
    found = example_mappings_dir()
    if not any(found.glob("*.csv")):
        raise ConfigError(f"no example mappings in {found}: this qbsf installation is incomplete",
                          hint="reinstall qbsf (pip install --force-reinstall qbsf): a wheel ships them in "
                               "qbsf/_data/mappings")
    return found


def salesforce_objects() -> Path | None:
    """The Salesforce package's SFDX ``objects`` folder (custom objects and fields), or None when absent."""
    return _find(("salesforce", "force-app", "main", "default", "objects"),
                 ("salesforce", "force-app", "main", "default", "objects"))
