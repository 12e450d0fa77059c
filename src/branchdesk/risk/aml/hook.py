"""Pre-posting hook: the same rules as the batch scan, applied to one new posting.

The ledger calls `check_posting` before it commits a posting, with the customer's recent
history (all of the customer's accounts, at least the longest rule window; for dormancy the
last movement before the window), and optionally recent in-bank transfers of other accounts
for the cycle rule. Only findings that include the new posting count.

Most postings cannot be part of any finding: a transfer of a few hundred yuan between accounts
without large inflows, fans or silences nearby. `could_be_flagged` proves that cheaply (a
necessary condition of every detector, see its docstring), and `check_posting` then answers
ALLOW without building the column arrays and running the detectors: the decision is the same.
`PostingHistory` keeps a batch's history per customer and per account, growing as the batch's
earlier items post, so that a batch is decided exactly as the same postings one by one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from functools import lru_cache

from branchdesk.risk.aml.book import DAY, HOUR, Book, Finding, start_of_day
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.cycle import SELF_BANK, detect_cycles
from branchdesk.risk.aml.io import Posting, cny_equivalent, transactions_from_postings
from branchdesk.risk.aml.reports import detect_cross_border, detect_large_cash
from branchdesk.risk.aml.scan import DETECTORS, run_rules
from branchdesk.risk.aml.typologies import (
    detect_dormant_reactivation,
    detect_fan_in,
    detect_fan_out,
    detect_pass_through,
    detect_structuring,
)

__all__ = [
    "Decision",
    "Outcome",
    "PostingHistory",
    "ScreenSummary",
    "check_posting",
    "could_be_flagged",
    "flagged_whatever_the_history",
    "notable_floor",
]

# the detectors `could_be_flagged` knows; with any other set the screen is skipped
_SCREENED = frozenset(
    {
        detect_large_cash,
        detect_cross_border,
        detect_structuring,
        detect_pass_through,
        detect_fan_in,
        detect_fan_out,
        detect_dormant_reactivation,
        detect_cycles,
    }
)


class Outcome(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"
    BLOCK = "block"


@dataclass(frozen=True)
class Decision:
    """What the ledger does with the posting, the reasons in words, and reports to file."""

    outcome: Outcome
    reasons: tuple[str, ...]
    typologies: tuple[str, ...]
    reports: tuple[str, ...]  # report-only findings (large cash, cross-border): post, but file


def check_posting(
    history: Sequence[Posting],
    posting: Posting,
    config: RuleConfig,
    *,
    related_transfers: Sequence[Posting] = (),
    history_start: datetime | None = None,
    screen: bool = True,
) -> Decision:
    """Allow, hold or block `posting` given the history; never raises for suspicious data.

    ``screen=False`` runs every detector even where `could_be_flagged` proves nothing can match
    (the tests compare both ways)."""
    known = {p.txn_id for p in history}
    if posting.txn_id in known:
        raise ValueError(f"posting {posting.txn_id} is already in the history")
    extra = [p for p in related_transfers if p.txn_id not in known and p.txn_id != posting.txn_id]
    postings = [*history, *extra, posting]
    if screen and not could_be_flagged(postings, posting, config, history_start=history_start):
        return _ALLOW
    tx = transactions_from_postings(postings, config)
    if history_start is not None:
        start = int(history_start.timestamp())
    else:
        start = start_of_day(int(tx.ts.min()), config)
    book = Book(tx, config, export_start=start)
    target = next(i for i in range(len(tx)) if tx.txn_id[i] == posting.txn_id)
    relevant: list[Finding] = [
        finding for finding in run_rules(book, DETECTORS) if target in finding.rows
    ]
    suspicious = [f for f in relevant if not f.report_only]
    reports = tuple(f"{f.typology}: {f.reason}" for f in relevant if f.report_only)
    if not suspicious:
        return Decision(Outcome.ALLOW, (), (), reports)
    policy = config.hook
    blocking = any(
        f.typology in policy.block_typologies or f.score >= float(policy.block_score)
        for f in suspicious
    )
    return Decision(
        Outcome.BLOCK if blocking else Outcome.HOLD,
        tuple(f"{f.typology}: {f.reason}" for f in suspicious),
        tuple(sorted({f.typology for f in suspicious})),
        reports,
    )


_ALLOW = Decision(Outcome.ALLOW, (), (), ())


def _validate(posting: Posting, config: RuleConfig) -> None:
    """The checks of `transactions_from_postings`, so that a screened posting fails the same."""
    if posting.booked_at.tzinfo is None:
        raise ValueError(f"posting {posting.txn_id}: booked_at must be timezone-aware")
    if posting.currency not in config.currencies:
        raise ValueError(f"posting {posting.txn_id}: unknown currency {posting.currency}")
    if posting.direction not in ("credit", "debit") or posting.amount_minor <= 0:
        raise ValueError(f"posting {posting.txn_id}: bad direction or amount")


def _cny(posting: Posting, config: RuleConfig) -> int:
    """The CNY minor amount exactly as the column arrays compute it (half-even)."""
    if posting.currency == "CNY":
        return posting.amount_minor
    exact = cny_equivalent(posting.amount_minor, posting.currency, config)
    rounded = Decimal(exact.numerator) / Decimal(exact.denominator)
    return int(rounded.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _ts(posting: Posting) -> int:
    return _epoch(posting.booked_at)


@lru_cache(maxsize=16_384)
def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def could_be_flagged(
    postings: Sequence[Posting],
    posting: Posting,
    config: RuleConfig,
    *,
    history_start: datetime | None = None,
) -> bool:
    """False only if no detector can return a finding that includes ``posting``.

    ``postings`` is everything `check_posting` would scan (history, related transfers and
    ``posting`` itself). Each condition below is implied by its detector's definition, so it is
    never False where the detector would match (it may be True where none does):
    - large cash, structuring: the posting is in a cash channel; cross-border: it is foreign;
    - pass-through: it is an inflow of at least the trigger amount, or an outflow within the
      window after such an inflow of its account, and the account's outflows within the window
      after that inflow reach the share of it the rule needs;
    - fan in/out: its account has at least ``min_counterparties`` distinct counterparties among
      counted movements (channel, minimum amount, direction) within window + move window of it;
    - dormant reactivation: a movement of its account at most ``lookahead_days`` before it (or
      the posting itself) follows a silence of ``dormant_days``;
    - cycle: it is an in-bank debit or credit of at least the first-hop minimum shrunk by the
      hop ratio over the longest cycle, or a credit mirroring such a debit.
    Raises ValueError for postings `transactions_from_postings` refuses.
    """
    if frozenset(DETECTORS) != _SCREENED or len(DETECTORS) != len(_SCREENED):
        return True
    account = posting.account_id
    rows = _AccountRows(config)
    for p in postings:
        _validate(p, config)
        if p.account_id == account and p is not posting:
            rows.add(p)
    if history_start is not None:
        start = int(history_start.timestamp())
    else:
        start = start_of_day(min(_ts(p) for p in postings), config)
    mirrors = [p for p in postings if p.account_id == posting.counterparty_account]
    return _screen(rows, mirrors, posting, config, start)


class _AccountRows:
    """What the screen reads of one account's rows, kept as rows arrive (any order): the
    inflows large enough to start a pass-through, every outflow, the movements each fan rule
    counts, and the distinct times. A check then reads these instead of every row.

    ``partial``: only the account's notable rows were added (`notable_floor`), with its times
    around the dormancy edge and the sum of its outflows since the pass-through edge
    (`ScreenSummary`); the large inflows and fan movements are all there, the outflows and
    times are not, and the screen answers True where it would need them.
    """

    __slots__ = (
        "_config",
        "_n",
        "debit_bound",
        "debits",
        "fans",
        "large_credits",
        "moments",
        "partial",
    )

    def __init__(self, config: RuleConfig, *, partial: bool = False) -> None:
        self._config = config
        self.partial = partial
        # partial: CNY outflows since the pass-through edge (None: not known)
        self.debit_bound: int | None = 0
        self.large_credits: list[tuple[int, int]] = []  # (time, CNY amount)
        self.debits: list[tuple[int, int]] = []
        self.fans: tuple[list[tuple[int, str]], list[tuple[int, str]]] = ([], [])  # in, out
        self.moments: list[int] = []  # sorted, distinct
        self._n = 0

    def add(self, p: Posting) -> None:
        config = self._config
        moment = _ts(p)
        value = p.amount_minor if p.currency == "CNY" else _cny(p, config)
        credit = p.direction == "credit"
        if credit:
            if value >= config.pass_through.min_inflow_minor:
                self.large_credits.append((moment, value))
        else:
            self.debits.append((moment, value))
        self._n += 1
        for index, (rule, inbound) in enumerate(((config.fan_in, True), (config.fan_out, False))):
            if credit == inbound and value >= rule.min_txn_minor and p.channel in rule.channels:
                # a movement without a counterparty counts as a party of its own
                self.fans[index].append((moment, p.counterparty_account or f"\x00row{self._n}"))
        self.add_moment(moment)

    def add_moment(self, moment: int) -> None:
        moments = self.moments
        if not moments or moment > moments[-1]:
            moments.append(moment)
        else:
            place = bisect_left(moments, moment)
            if moments[place] != moment:
                moments.insert(place, moment)


def flagged_whatever_the_history(posting: Posting, config: RuleConfig) -> bool:
    """The screen's first conditions, which read only the posting: a cash movement (large cash,
    structuring) or a foreign one (cross-border). Then no history can clear it."""
    cash = config.large_cash.channels
    if posting.channel in cash and (config.large_cash.enabled or config.structuring.enabled):
        return True
    border = config.cross_border
    return (
        border.enabled
        and posting.channel in border.channels
        and posting.country not in (border.home_country, "")
    )


def _screen(
    rows: _AccountRows,
    mirrors: Sequence[Posting],
    posting: Posting,
    config: RuleConfig,
    start: int,
) -> bool:
    """`could_be_flagged` over what it reads: ``rows`` (the posting's account, without the
    posting), ``mirrors`` (the rows of its counterparty account, for the cycle rule) and the
    dormancy start; every row already validated."""
    account = posting.account_id
    when = _ts(posting)
    amount = _cny(posting, config)
    credit = posting.direction == "credit"

    if flagged_whatever_the_history(posting, config):
        return True

    through = config.pass_through
    if through.enabled:
        window = through.window_hours * HOUR
        needed = through.min_outflow_pct / 100
        low = through.min_inflow_minor
        if credit:  # only the posting itself can be the inflow that starts a pass-through
            triggers = [(when, amount)] if amount >= low else []
        else:
            triggers = [
                (moment, value)
                for moment, value in rows.large_credits
                if 0 <= when - moment <= window
            ]
        if triggers and rows.partial:  # the outflows after the inflow are known as a sum only
            if rows.debit_bound is None:
                return True
            bound = Decimal(rows.debit_bound + (0 if credit else amount))
            if any(bound >= needed * Decimal(value) for _began, value in triggers):
                return True
            triggers = []
        for began, value in triggers:
            out = sum(cny for moment, cny in rows.debits if began <= moment <= began + window)
            if not credit and began <= when <= began + window:
                out += amount  # the posting is one of the outflows
            if Decimal(out) >= needed * Decimal(value):
                return True

    for index, (rule, inbound) in enumerate(((config.fan_in, True), (config.fan_out, False))):
        if not rule.enabled:
            continue
        reach = (rule.window_hours + rule.move_window_hours) * HOUR
        parties = {party for moment, party in rows.fans[index] if abs(moment - when) <= reach}
        if credit == inbound and amount >= rule.min_txn_minor and posting.channel in rule.channels:
            parties.add(posting.counterparty_account or "\x00posting")
        if len(parties) >= rule.min_counterparties:
            return True

    dormant = config.dormant_reactivation
    if dormant.enabled:
        ahead = dormant.lookahead_days * DAY
        silence = dormant.dormant_days * DAY
        moments = rows.moments
        # the distinct times up to the posting, from the last one before the look-ahead window
        first = max(0, bisect_left(moments, when - ahead) - 1)
        times = moments[first : bisect_right(moments, when)]
        if not times or times[-1] != when:
            times.append(when)
        for index, moment in enumerate(times):
            if not 0 <= when - moment <= ahead:
                continue
            if index:
                gap = moment - times[index - 1]
            elif first:  # the time before it lies outside the window
                gap = moment - moments[first - 1]
            else:
                gap = moment - start if dormant.count_export_start else 0
            if gap >= silence:
                return True

    cycle = config.cycle
    if cycle.enabled and posting.counterparty_bank == SELF_BANK and posting.counterparty_account:
        smallest = _smallest_cycle_hop(config)
        if Decimal(amount) >= smallest:
            return True
        if credit:
            size = posting.amount_minor
            for p in mirrors:
                if (
                    p.amount_minor == size
                    and p.direction == "debit"
                    and p.counterparty_account == account
                    and Decimal(_cny(p, config)) >= smallest
                ):
                    return True
    return False


def _smallest_cycle_hop(config: RuleConfig) -> Decimal:
    """The smallest CNY amount any hop of a cycle can have: the first-hop minimum shrunk by the
    lowest hop ratio over the longest cycle."""
    cycle = config.cycle
    low_ratio = min(Decimal(1), cycle.min_hop_ratio_pct / 100)
    return Decimal(cycle.min_amount_minor) * low_ratio**cycle.max_other_accounts


def _screenable(
    posting: Posting, config: RuleConfig, validated_with: RuleConfig | None, related: str | None
) -> bool:
    """Whether a screen over indexed rows stands for `could_be_flagged`: the rows were
    validated with this config, the related rows are those of the counterparty account, and
    the detectors are the ones the screen knows."""
    return (
        config is validated_with
        and related in (None, posting.counterparty_account)
        and related != posting.account_id
        and frozenset(DETECTORS) == _SCREENED
        and len(DETECTORS) == len(_SCREENED)
    )


def _mirrors(
    by_account: dict[str, list[Posting]], posting: Posting, related: str | None
) -> list[Posting]:
    """The counterparty account's rows the cycle rule reads: with related transfers, all of
    that account's rows; without, its rows in the customer's own history."""
    if related is not None:
        return by_account.get(related, [])
    rows = by_account.get(posting.counterparty_account, [])
    return [p for p in rows if p.customer_id == posting.customer_id]


class PostingHistory:
    """Recent movements per customer and per account, in time order; a batch adds its own
    postings as they are applied, so that later items see them as they would one by one.

    With a ``config``, every row is validated as it is added (`transactions_from_postings`
    would refuse the same rows) and `check` screens a posting reading only the rows of its own
    account and of its counterparty account, instead of the customer's whole history."""

    def __init__(self, postings: Iterable[Posting] = (), config: RuleConfig | None = None) -> None:
        self._config = config
        self._by_customer: dict[str, list[Posting]] = {}
        self._by_account: dict[str, list[Posting]] = {}
        self._ids: dict[str, set[str]] = {}
        self._rows: dict[tuple[str, str], _AccountRows] = {}  # (account, customer)
        for posting in postings:
            self.add(posting)

    def add(self, posting: Posting) -> None:
        config = self._config
        if config is not None:
            _validate(posting, config)
            key = (posting.account_id, posting.customer_id)
            rows = self._rows.get(key)
            if rows is None:
                rows = self._rows[key] = _AccountRows(config)
            rows.add(posting)
        self._by_customer.setdefault(posting.customer_id, []).append(posting)
        self._by_account.setdefault(posting.account_id, []).append(posting)
        self._ids.setdefault(posting.customer_id, set()).add(posting.txn_id)

    def of_customer(self, customer_id: str) -> list[Posting]:
        return self._by_customer.get(customer_id, [])

    def of_account(self, account_id: str) -> list[Posting]:
        return self._by_account.get(account_id, [])

    def check(
        self,
        posting: Posting,
        config: RuleConfig,
        *,
        related_account: str | None,
        history_start: datetime,
    ) -> Decision:
        """``check_posting(of_customer(customer), posting, config, related_transfers=
        of_account(related_account), history_start=history_start)``: the same decision, screened
        by `screen` (two accounts' rows) instead of the customer's whole history."""
        flagged = self.screen(
            posting, config, related_account=related_account, history_start=history_start
        )
        if flagged is False:
            return _ALLOW
        related = self.of_account(related_account) if related_account else []
        return check_posting(
            self.of_customer(posting.customer_id),
            posting,
            config,
            related_transfers=related,
            history_start=history_start,
            screen=flagged is None,  # screened already when the shortcut applied
        )

    def screen(
        self,
        posting: Posting,
        config: RuleConfig,
        *,
        related_account: str | None,
        history_start: datetime,
    ) -> bool | None:
        """`could_be_flagged` for `check`, reading the rows of the posting's account and of its
        counterparty account only (those ``check_posting`` would pick out of the customer's
        history and the related transfers); None where that shortcut does not apply (another
        config than the rows were validated with, unusual related rows, other detectors).
        Raises ValueError as ``check_posting`` would."""
        if not _screenable(posting, config, self._config, related_account):
            return None
        customer = posting.customer_id
        if posting.txn_id in self._ids.get(customer, ()):
            raise ValueError(f"posting {posting.txn_id} is already in the history")
        _validate(posting, config)
        rows = self._rows.get((posting.account_id, customer)) or _AccountRows(config)
        mirrors = _mirrors(self._by_account, posting, related_account)
        return _screen(rows, mirrors, posting, config, int(history_start.timestamp()))


def notable_floor(config: RuleConfig) -> int:
    """The CNY minor amount from which a movement in the history can matter to the screen other
    than by its time, or as an outflow after a large inflow: a pass-through's inflow, a movement
    a fan rule counts, a debit a cycle's credit mirrors. Movements in other currencies are
    always notable (`ScreenSummary` is given all of them)."""
    return min(
        config.pass_through.min_inflow_minor,
        config.fan_in.min_txn_minor,
        config.fan_out.min_txn_minor,
        math.floor(_smallest_cycle_hop(config)),
    )


class ScreenSummary:
    """The screen of `PostingHistory.check` without the customers' whole history.

    It holds the customers' notable rows (at least `notable_floor` CNY, and every row in
    another currency) and, per account and currency, its last movement time before the
    dormancy edge and first one from it (a silence can only end at the first movement of the
    look-ahead window) and the sum of its outflows since the pass-through edge (the most that
    can follow a large inflow); `edges` gives both for ``now``. Rows the caller adds (a batch's
    applied items) are kept whole. `clears` answers True only where `PostingHistory.screen`
    over the whole history would answer False; where the screen would need what the summary
    leaves out, it answers False and the caller reads the whole history."""

    def __init__(
        self,
        config: RuleConfig,
        *,
        now: datetime,
        notable: Iterable[Posting] = (),
        bounds: Iterable[tuple[str, str, str, datetime | None, datetime | None, int]] = (),
    ) -> None:
        self._config = config
        dormant_edge, pass_edge = self.edges(config, now)
        self._dormant_edge, self._pass_edge = _epoch(dormant_edge), _epoch(pass_edge)
        self._rows: dict[tuple[str, str], _AccountRows] = {}  # (account, customer)
        self._by_account: dict[str, list[Posting]] = {}
        for posting in notable:
            self._add(posting)
        for account, customer, currency, last, first, debits in bounds:
            if (last is not None and last >= dormant_edge) or (
                first is not None and first < dormant_edge
            ):
                raise ValueError(f"account {account}: times on the wrong side of the edge")
            rows = self._account(account, customer)
            for moment in (last, first):
                if moment is not None:
                    rows.add_moment(_epoch(moment))
            if rows.debit_bound is not None:
                rows.debit_bound = rows.debit_bound + debits if currency == "CNY" else None

    @staticmethod
    def edges(config: RuleConfig, now: datetime) -> tuple[datetime, datetime]:
        """(dormancy edge, pass-through edge) for postings booked at ``now`` or later."""
        dormant = now - timedelta(days=config.dormant_reactivation.lookahead_days)
        return dormant, now - timedelta(hours=config.pass_through.window_hours)

    def _account(self, account: str, customer: str) -> _AccountRows:
        rows = self._rows.get((account, customer))
        if rows is None:
            rows = self._rows[(account, customer)] = _AccountRows(self._config, partial=True)
        return rows

    def _add(self, posting: Posting) -> _AccountRows:
        _validate(posting, self._config)
        rows = self._account(posting.account_id, posting.customer_id)
        rows.add(posting)
        self._by_account.setdefault(posting.account_id, []).append(posting)
        return rows

    def add(self, posting: Posting) -> None:
        """A row posted since the summary was read (not in its sums)."""
        rows = self._add(posting)
        if posting.direction == "debit" and rows.debit_bound is not None:
            if _ts(posting) < self._pass_edge:
                raise ValueError(f"posting {posting.txn_id}: booked before the summary's edge")
            rows.debit_bound += _cny(posting, self._config)

    def clears(
        self,
        posting: Posting,
        config: RuleConfig,
        *,
        related_account: str | None,
        history_start: datetime,
    ) -> bool:
        """True only if `PostingHistory.check` over the whole history would allow ``posting``
        by its screen (no detector can include it). Raises ValueError for a posting
        ``check_posting`` refuses."""
        if not _screenable(posting, config, self._config, related_account):
            return False
        _validate(posting, config)
        when = _ts(posting)
        dormant = config.dormant_reactivation
        if dormant.enabled and (
            dormant.dormant_days <= dormant.lookahead_days  # a silence could end mid-window
            or when - dormant.lookahead_days * DAY < self._dormant_edge
        ):
            return False
        if when - config.pass_through.window_hours * HOUR < self._pass_edge:
            return False  # an inflow before the edge could start a pass-through
        customer = posting.customer_id
        rows = self._rows.get((posting.account_id, customer)) or _AccountRows(config, partial=True)
        mirrors = _mirrors(self._by_account, posting, related_account)
        return not _screen(rows, mirrors, posting, config, int(history_start.timestamp()))
