"""Garage's admin API v2: cluster health, buckets, keys and their permissions."""

from fedi_tui.adapters.garage.admin import GarageAdmin
from fedi_tui.adapters.garage.http import GarageError

__all__ = ["GarageAdmin", "GarageError"]
