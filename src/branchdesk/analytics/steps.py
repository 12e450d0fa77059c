"""The pipeline definition: SQL steps in the subset DuckDB and Spark SQL share, as data.

Each step is a name and a SQL template. The template may use ``{as_of}``, ``{since}`` and the
other parameters of :func:`parameters` (always dates or integers from the configuration), and
one macro the two dialects spell differently: ``DAYS_BETWEEN(a, b)`` (whole days from a to b),
rewritten by :func:`render` for the engine. Money is integer minor units everywhere; the only
floating point is IEEE double in a currency conversion that is floored straight back to an
integer, so both engines give identical results row for row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from branchdesk.analytics.config import PipelineConfig

INPUTS = (
    "customers",
    "accounts",
    "entries",
    "tickets",
    "appointments",
    "surveys",
    "complaints",
    "fx_rates",
)


@dataclass(frozen=True)
class SqlStep:
    name: str
    sql: str


_TO_BASE = (
    "CAST(FLOOR(CAST({x} AS DOUBLE) * CAST(r.factor_ppm AS DOUBLE) / CAST(1000000 AS DOUBLE))"
    " AS BIGINT)"
)

STEPS: tuple[SqlStep, ...] = (
    SqlStep(
        "account_balances",
        """
WITH latest AS (
  SELECT account_id, balance_after_minor,
         ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY seq DESC) AS position
  FROM entries WHERE booked_on <= DATE '{as_of}'
), earlier AS (
  SELECT account_id, balance_after_minor,
         ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY seq DESC) AS position
  FROM entries WHERE booked_on <= DATE '{month_ago}'
)
SELECT a.account_id, a.customer_id, a.type, a.status,
       """
        + _TO_BASE.format(x="COALESCE(l.balance_after_minor, 0)")
        + """ AS balance_minor,
       """
        + _TO_BASE.format(x="COALESCE(e.balance_after_minor, 0)")
        + """ AS balance_month_ago_minor
FROM accounts a
JOIN fx_rates r ON r.currency = a.currency
LEFT JOIN latest l ON l.account_id = a.account_id AND l.position = 1
LEFT JOIN earlier e ON e.account_id = a.account_id AND e.position = 1
WHERE a.opened_on <= DATE '{as_of}'
""",
    ),
    SqlStep(
        "customer_entries",
        """
SELECT a.customer_id, e.entry_id, e.kind, e.booked_on,
       """
        + _TO_BASE.format(x="e.amount_minor")
        + """ AS amount_base_minor
FROM entries e
JOIN accounts a ON a.account_id = e.account_id
JOIN fx_rates r ON r.currency = a.currency
WHERE e.booked_on <= DATE '{as_of}'
""",
    ),
    SqlStep(
        "rfm_raw",
        """
SELECT customer_id,
       DAYS_BETWEEN(MAX(booked_on), DATE '{as_of}') AS recency_days,
       COUNT(*) AS frequency,
       SUM(ABS(amount_base_minor)) AS monetary_minor
FROM customer_entries
WHERE booked_on > DATE '{since}'
GROUP BY customer_id
""",
    ),
    SqlStep(
        "holdings",
        """
SELECT customer_id,
       SUM(balance_minor) AS assets_minor,
       SUM(balance_month_ago_minor) AS assets_month_ago_minor,
       COUNT(DISTINCT CASE WHEN status <> 'closed' THEN type END) AS product_count,
       MAX(CASE WHEN status <> 'closed' AND type = 'current' THEN 1 ELSE 0 END) AS has_current,
       MAX(CASE WHEN status <> 'closed' AND type = 'savings' THEN 1 ELSE 0 END) AS has_savings,
       MAX(CASE WHEN status <> 'closed' AND type = 'time_deposit' THEN 1 ELSE 0 END)
         AS has_time_deposit
FROM account_balances
GROUP BY customer_id
""",
    ),
    SqlStep(
        "channels",
        """
SELECT customer_id,
       SUM(CASE WHEN channel IN ('kiosk', 'lobby') THEN 1 ELSE 0 END) AS counter_visits,
       SUM(CASE WHEN channel = 'remote' THEN 1 ELSE 0 END) AS remote_visits
FROM tickets
WHERE business_on > DATE '{since}' AND business_on <= DATE '{as_of}'
GROUP BY customer_id
""",
    ),
    SqlStep(
        "bookings",
        """
SELECT customer_id,
       SUM(CASE WHEN channel = 'portal' THEN 1 ELSE 0 END) AS portal_visits,
       COUNT(*) AS appointments
FROM appointments
WHERE state <> 'cancelled' AND business_on > DATE '{since}' AND business_on <= DATE '{as_of}'
GROUP BY customer_id
""",
    ),
    SqlStep(
        "features",
        """
SELECT c.customer_id, c.customer_number, c.home_branch_id, c.birth_on, c.id_expires_on,
       c.has_consent,
       COALESCE(h.assets_minor, 0) AS assets_minor,
       COALESCE(h.assets_month_ago_minor, 0) AS assets_month_ago_minor,
       f.recency_days,
       COALESCE(f.frequency, 0) AS frequency,
       COALESCE(f.monetary_minor, 0) AS monetary_minor,
       COALESCE(h.product_count, 0) AS product_count,
       COALESCE(h.has_current, 0) AS has_current,
       COALESCE(h.has_savings, 0) AS has_savings,
       COALESCE(h.has_time_deposit, 0) AS has_time_deposit,
       COALESCE(ch.counter_visits, 0) AS counter_visits,
       COALESCE(b.portal_visits, 0) AS portal_visits,
       COALESCE(ch.remote_visits, 0) AS remote_visits,
       COALESCE(b.appointments, 0) AS appointments,
       CASE WHEN c.created_on > DATE '{as_of}' THEN 0 ELSE
         (year(DATE '{as_of}') - year(c.created_on)) * 12
         + month(DATE '{as_of}') - month(c.created_on)
         - CASE WHEN dayofmonth(DATE '{as_of}') < dayofmonth(c.created_on) THEN 1 ELSE 0 END
       END AS tenure_months,
       COALESCE(c.risk_tolerance, '{default_tolerance}') AS risk_tolerance,
       CASE WHEN c.risk_tolerance IS NULL THEN TRUE ELSE FALSE END AS is_risk_tolerance_default
FROM customers c
LEFT JOIN holdings h ON h.customer_id = c.customer_id
LEFT JOIN rfm_raw f ON f.customer_id = c.customer_id
LEFT JOIN channels ch ON ch.customer_id = c.customer_id
LEFT JOIN bookings b ON b.customer_id = c.customer_id
""",
    ),
    SqlStep(
        "rfm_scores",
        """
SELECT customer_id,
       NTILE(5) OVER (ORDER BY recency_days DESC, customer_number) AS r_score,
       NTILE(5) OVER (ORDER BY frequency, customer_number) AS f_score,
       NTILE(5) OVER (ORDER BY monetary_minor, customer_number) AS m_score
FROM features
WHERE frequency > 0
""",
    ),
    SqlStep(
        "segments",
        """
SELECT f.customer_id,
       CASE WHEN f.assets_minor >= {private_from} THEN 'private'
            WHEN f.assets_minor >= {affluent_from} THEN 'affluent'
            ELSE 'mass' END AS asset_tier,
       COALESCE(s.r_score, 0) AS r_score,
       COALESCE(s.f_score, 0) AS f_score,
       COALESCE(s.m_score, 0) AS m_score,
       CASE WHEN s.r_score IS NULL THEN 'no_transactions'
            WHEN s.r_score >= 4 AND s.f_score >= 4 AND s.m_score >= 4 THEN 'champions'
            WHEN s.r_score >= 3 AND s.f_score >= 3 THEN 'loyal'
            WHEN s.r_score >= 4 THEN 'recent'
            WHEN s.f_score >= 3 THEN 'at_risk'
            WHEN s.r_score <= 2 THEN 'hibernating'
            ELSE 'needs_attention' END AS rfm_group
FROM features f
LEFT JOIN rfm_scores s ON s.customer_id = f.customer_id
""",
    ),
    SqlStep(
        "product_openings",
        """
SELECT customer_id, type, MIN(opened_on) AS opened_on
FROM accounts
WHERE opened_on <= DATE '{as_of}' AND status <> 'closed'
GROUP BY customer_id, type
""",
    ),
    SqlStep(
        "care_events",
        """
SELECT customer_id, 'detractor' AS rule_code, survey_id AS reference, answered_on AS happened_on
FROM surveys
WHERE is_detractor AND answered_on > DATE '{detractor_since}' AND answered_on <= DATE '{as_of}'
UNION ALL
SELECT customer_id, 'complaint_closed' AS rule_code, reference, closed_on AS happened_on
FROM complaints
WHERE state = 'closed' AND closed_on > DATE '{complaint_since}' AND closed_on <= DATE '{as_of}'
""",
    ),
)

# the outputs both engines hand to the Python steps (and the equality test compares)
OUTPUTS: dict[str, tuple[str, ...]] = {
    "features": ("customer_number",),
    "segments": ("customer_id",),
    "product_openings": ("customer_id", "type"),
    "care_events": ("rule_code", "reference"),
}


def parameters(config: PipelineConfig, as_of: date) -> dict[str, str]:
    def before(days: int) -> str:
        return (as_of - timedelta(days=days)).isoformat()

    return {
        "as_of": as_of.isoformat(),
        "since": before(config.rfm_window_days),
        "month_ago": before(30),
        "detractor_since": before(config.detractor_days),
        "complaint_since": before(config.complaint_closed_days),
        "private_from": str(int(config.private_from_minor)),
        "affluent_from": str(int(config.affluent_from_minor)),
        "default_tolerance": config.default_risk_tolerance,
    }


_DAYS_BETWEEN = re.compile(r"DAYS_BETWEEN\(([^,()]+(?:\([^()]*\))?),\s*([^,()]+(?:'[^']*')?)\)")


def render(step: SqlStep, dialect: str, values: dict[str, str]) -> str:
    """The step's SQL for ``dialect`` ("duckdb" or "spark") with the parameters filled in."""
    text = step.sql
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    if dialect == "duckdb":
        return _DAYS_BETWEEN.sub(r"date_diff('day', \1, \2)", text)
    return _DAYS_BETWEEN.sub(r"datediff(\2, \1)", text)
