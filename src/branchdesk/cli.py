"""The `branchdesk` command line: one Typer app, one sub-command group per domain."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="branchdesk: the bank branch service platform.")


@app.callback()
def _root() -> None:
    """branchdesk: the bank branch service platform."""


def _register() -> None:
    """Attach every domain's command group. One line per domain, sorted by domain."""
    from branchdesk import platform_cli

    platform_cli.register(app)
    # domain command groups:
    from branchdesk.bench.cli import bench_app

    app.add_typer(bench_app, name="bench")
    from branchdesk.analytics.cli import analytics_app, recommend_app

    app.add_typer(analytics_app, name="analytics")

    app.add_typer(recommend_app, name="recommend")
    from branchdesk.appointments.cli import appointments_app

    app.add_typer(appointments_app, name="appointments")
    from branchdesk.complaints.cli import complaints_app

    app.add_typer(complaints_app, name="complaints")
    from branchdesk.feedback.cli import feedback_app

    app.add_typer(feedback_app, name="feedback")
    from branchdesk.loans.cli import credit_app

    app.add_typer(credit_app, name="credit")
    from branchdesk.loans.cli import loans_app

    app.add_typer(loans_app, name="loans")
    from branchdesk.portal.cli import portal_app

    app.add_typer(portal_app, name="portal")
    from branchdesk.quality.cli import quality_app

    app.add_typer(quality_app, name="quality")
    from branchdesk.queue.cli import waittime_app

    app.add_typer(waittime_app, name="waittime")
    from branchdesk.risk.cli import aml_app

    app.add_typer(aml_app, name="aml")
    from branchdesk.risk.cli import kyc_app

    app.add_typer(kyc_app, name="kyc")
    from branchdesk.textanalysis.cli import textanalysis_app

    app.add_typer(textanalysis_app, name="textanalysis")
    from branchdesk.training.cli import training_app

    app.add_typer(training_app, name="training")
    from branchdesk.operations.cli import operations_app

    app.add_typer(operations_app, name="operations")
    from branchdesk.compliance.cli import compliance_app

    app.add_typer(compliance_app, name="compliance")


def main() -> None:
    _register()
    app()
