"""The shared state of one seed_demo run, handed to each app's seeder in turn."""

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class DemoContext:
    """What a seeder needs: the scale, a seeded random source, today, and what earlier seeders made.

    ``made`` holds records later seeders build on, e.g. ``made["budget_holders"]``.
    """

    scale: int
    today: date
    rng: random.Random
    password: str
    made: dict[str, Any] = field(default_factory=dict)
