"""Survey arithmetic without a session: who is a detractor, NPS, CSAT average, response rate."""

from __future__ import annotations

from dataclasses import dataclass


def is_promoter(nps: int) -> bool:
    return nps >= 9


def is_nps_detractor(nps: int) -> bool:
    return nps <= 6


def is_detractor(*, csat: int, nps: int) -> bool:
    """A detractor needs a follow-up: NPS 0-6 or CSAT 1-2."""
    return is_nps_detractor(nps) or csat <= 2


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts of one group; every figure derives from these, so groups add up exactly."""

    completed: int = 0
    responses: int = 0
    csat_sum: int = 0
    csat_counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    promoters: int = 0
    detractors: int = 0

    @property
    def passives(self) -> int:
        return self.responses - self.promoters - self.detractors

    @property
    def csat_average(self) -> float | None:
        return round(self.csat_sum / self.responses, 2) if self.responses else None

    @property
    def nps(self) -> float | None:
        """Promoters% - detractors%, one decimal (between -100 and 100)."""
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses, 1)

    @property
    def response_rate(self) -> float | None:
        """Responses / completed tickets, as a fraction with four decimals."""
        return round(self.responses / self.completed, 4) if self.completed else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            completed=self.completed + other.completed,
            responses=self.responses + other.responses,
            csat_sum=self.csat_sum + other.csat_sum,
            csat_counts=(
                self.csat_counts[0] + other.csat_counts[0],
                self.csat_counts[1] + other.csat_counts[1],
                self.csat_counts[2] + other.csat_counts[2],
                self.csat_counts[3] + other.csat_counts[3],
                self.csat_counts[4] + other.csat_counts[4],
            ),
            promoters=self.promoters + other.promoters,
            detractors=self.detractors + other.detractors,
        )
