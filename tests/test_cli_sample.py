"""`recon sample` then `recon run` through the command line: every planted v2 situation, read from `--json -`.

One month is written by `recon sample` into a temporary folder and reconciled once with both of its
invoices, as of 9 November 2026 (the scheduled change takes effect in 2028) and with --min-margin 10.
Lines are looked up by customer, so the tests read like the story table of sample_data/README.md.
The last tests run each month of a three-month sample (written by the library) through `recon run`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recon_cli.cli import cli
from recon_cli.errors import ExitCode
from recon_cli.sample import SamplePlan, generate_sample

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-09"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_args(folder: Path) -> list[str]:
    """`recon run` of both invoices, the export and the change log of a sample month."""
    return [str(folder / "invoice.csv"), str(folder / "invoice-eur.csv"), str(folder / "subscriptions.csv"),
            "--changes", str(folder / "changes.csv"), "--as-of", AS_OF]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "october"
    code, out, _ = invoke("sample", str(folder))
    assert code == ExitCode.OK and "planted" in out
    return folder


@pytest.fixture(scope="module")
def store(month: Path) -> Path:
    return month.parent / "recon.db"


@pytest.fixture(scope="module")
def result(month: Path, store: Path) -> dict[str, Any]:
    code, out, _ = invoke("run", *run_args(month), "--min-margin", "10", "--json", "-", "--store", str(store))
    assert code == ExitCode.NEEDS_ATTENTION
    data: dict[str, Any] = json.loads(out)
    return data


def lines_of(data: dict[str, Any], customer: str) -> list[dict[str, Any]]:
    found = [line for line in data["lines"] if line["customer_name"] == customer]
    assert found, customer
    return found


def outcome(line: dict[str, Any]) -> tuple[Any, ...]:
    return line["status"], line["reason"], line["price_status"], line["needs_person"]


def seats(line: dict[str, Any]) -> tuple[Decimal, Decimal]:
    return Decimal(line["provider_quantity"]), Decimal(line["subscription_quantity"])


def missing_customers(data: dict[str, Any]) -> set[str]:
    return {entry["customer_name"] for entry in data["missing_subscriptions"]}


# --- the month as a whole ------------------------------------------------------------------------


def test_sample_data_is_what_recon_sample_writes(month: Path) -> None:
    """sample_data/ holds exactly the four files `recon sample` writes with its defaults."""
    for name in ("invoice.csv", "invoice-eur.csv", "subscriptions.csv", "changes.csv"):
        assert (ROOT / "sample_data" / name).read_bytes() == (month / name).read_bytes(), name


def test_sample_data_november_is_the_second_month(tmp_path: Path) -> None:
    """sample_data/2026-11/ holds exactly the second month `recon sample --months 2` writes."""
    code, _, _ = invoke("sample", str(tmp_path / "story"), "--months", "2")
    assert code == 0
    for name in ("invoice.csv", "invoice-eur.csv", "subscriptions.csv", "changes.csv"):
        written = tmp_path / "story" / "2026-11" / name
        assert (ROOT / "sample_data" / "2026-11" / name).read_bytes() == written.read_bytes(), name


def test_exit_code_is_1_by_default_and_0_with_fail_on_never(month: Path, store: Path) -> None:
    """The planted findings make `recon run` exit 1; --fail-on never makes it exit 0."""
    assert invoke("run", *run_args(month), "--quiet", "--store", str(store))[0] == ExitCode.NEEDS_ATTENTION
    assert invoke("run", *run_args(month), "--quiet", "--store", str(store), "--fail-on", "never")[0] == ExitCode.OK


def test_both_invoices_keep_their_own_line_ids(result: dict[str, Any]) -> None:
    """Lines of invoice-eur.csv are G000123457-<row>, beside invoice.csv's G000123456-<row>."""
    assert result["summary"]["invoice_numbers"] == ["G000123456", "G000123457"]
    eur = [line["line_id"] for line in result["lines"] if line["currency"] == "EUR"]
    assert eur == ["G000123457-2", "G000123457-3"]
    assert result["lines"][0]["line_id"] == "G000123456-2"


# --- one test per situation ------------------------------------------------------------------------


def test_same_day_events_out_of_order(result: dict[str, Any]) -> None:
    """A −10/+12 addQuantity pair listed before its same-day `new` line still leaves 12 seats (Microsoft B1–B3)."""
    lines = lines_of(result, "Lamna Healthcare Company")
    assert [line["charge_type"] for line in lines] == ["addQuantity", "addQuantity", "new"]
    for line in lines:
        assert outcome(line) == ("matched", "quantity_equal", "ok", False)
        assert seats(line) == (12, 12)


def test_free_addon_pair(result: dict[str, Any]) -> None:
    """In a 0.00 addQuantity pair the half restating the earlier 10 is the reversal: the count is 13."""
    for line in lines_of(result, "Munson's Pickles and Preserves Farm"):
        assert outcome(line) == ("matched", "quantity_equal", "ok", False)
        assert seats(line) == (13, 13)


def test_whole_upgrade_on_one_subscription(result: dict[str, Any]) -> None:
    """New 300, convert −300 of the old product, convert +300 of the new one, one id: 300, matched (Microsoft E1–E3)."""
    lines = lines_of(result, "Wingtip Toys")
    assert [line["charge_type"] for line in lines] == ["new", "convert", "convert"]
    assert len({line["subscription_id"] for line in lines}) == 1
    for line in lines:
        assert outcome(line) == ("matched", "quantity_equal", "ok", False)
        assert seats(line) == (300, 300)


def test_partial_upgrade_to_a_new_subscription(result: dict[str, Any]) -> None:
    """300 bought, 100 converted to a new subscription id: source 200 and target 100, both matched (Microsoft F1–F3)."""
    lines = lines_of(result, "First Up Consultants")
    by_sub: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_sub.setdefault(line["subscription_id"], []).append(line)
    counts = sorted(seats(group[0]) for group in by_sub.values())
    assert counts == [(100, 100), (200, 200)]
    for line in lines:
        assert outcome(line) == ("matched", "quantity_equal", "ok", False)


def test_cancelled_but_billed(result: dict[str, Any]) -> None:
    """A subscription cancelled in the export has 0 seats in force, so a 5-seat cycleCharge is unexplained."""
    (line,) = lines_of(result, "Southridge Video")
    assert outcome(line) == ("unexplained", "no_evidence", "ok", True)
    assert seats(line) == (5, 0)


def test_split_export_row(result: dict[str, Any]) -> None:
    """One subscription on two export rows (6 + 4) matches 10 billed seats, and the summary notes the merge."""
    (line,) = lines_of(result, "Contoso Suites")
    assert outcome(line) == ("matched", "quantity_equal", "ok", False)
    assert seats(line) == (10, 10)
    assert any(line["subscription_id"] in note and "added up" in note for note in result["summary"]["notes"])


def test_scheduled_reduction_is_no_evidence(result: dict[str, Any]) -> None:
    """A change effective in 2028 is listed as scheduled, never evidence: the 5-seat gap stays unexplained."""
    (line,) = lines_of(result, "Liberty's Delightful Sinful Bakery & Cafe")
    assert outcome(line) == ("unexplained", "no_evidence", "ok", True)
    assert seats(line) == (20, 15)
    assert line["evidence"] == [] and len(line["scheduled"]) == 1
    assert line["scheduled"][0] in line["explanation"]


def test_explain_names_the_scheduled_record(result: dict[str, Any], store: Path) -> None:
    """`recon explain` of the scheduled case's line names the scheduled change and its 2028 date."""
    (line,) = lines_of(result, "Liberty's Delightful Sinful Bakery & Cafe")
    code, out, _ = invoke("explain", line["line_id"], "--run", result["run_id"], "--store", str(store))
    assert code == ExitCode.OK
    assert line["scheduled"][0] in out and "2028-01-26" in out and "cheduled" in out


def test_blank_frequency_seat_line(result: dict[str, Any]) -> None:
    """A commitment term with a blank BillingFrequency and a one-year cycle is an annual seat line (Microsoft A4)."""
    (line,) = lines_of(result, "Boulder Innovations")
    assert (line["kind"], line["billing_frequency"]) == ("seat", "annual")
    assert outcome(line) == ("unexplained", "no_evidence", "ok", True)
    assert seats(line) == (10, 8)


def test_reservation_is_a_one_time_line(result: dict[str, Any]) -> None:
    """A ReservationOrderId on an Azure product without a meter is a one-time line, whatever its term says."""
    (line,) = lines_of(result, "Fabrikam Residences")
    assert line["kind"] == "one_time" and line["product_id"].startswith("DZH318Z0")
    assert outcome(line) == ("matched", "one_time_line", "not_applicable", False)


def test_triennial_due_is_missing_and_not_due_is_not(result: dict[str, Any]) -> None:
    """A triennial started October 2023 is due and absent (missing); one started October 2025 is not due."""
    missing = missing_customers(result)
    assert "The Phone Company" in missing and "Coho Vineyard" not in missing
    (entry,) = [e for e in result["missing_subscriptions"] if e["customer_name"] == "The Phone Company"]
    assert Decimal(entry["expected_cost"]) == 40 * Decimal("1296.00")
    assert entry["reason"] == "not_on_invoice"


def test_usage_subscription_is_never_missing(result: dict[str, Any]) -> None:
    """An Azure plan marked `usage` with no invoice line is not listed as missing."""
    assert "Lakeshore Retail" not in missing_customers(result)
    assert all(line["customer_name"] != "Lakeshore Retail" for line in result["lines"])


def test_second_currency_invoice(result: dict[str, Any]) -> None:
    """The EUR invoice has a matched line and a planted finding; the GBP subscription is not checked, not missing."""
    (fabrikam,) = lines_of(result, "Fabrikam Fiber GmbH")
    assert outcome(fabrikam) == ("matched", "quantity_equal", "ok", False) and fabrikam["currency"] == "EUR"
    (tailwind,) = lines_of(result, "Tailwind Traders B.V.")
    assert outcome(tailwind) == ("unexplained", "no_evidence", "ok", True) and seats(tailwind) == (8, 6)
    assert result["summary"]["not_checked_other_currency"] == 1
    assert "Fincher Architects Ltd" not in missing_customers(result)


def test_one_currency_alone_leaves_the_other_unchecked(month: Path, store: Path) -> None:
    """Run on invoice.csv alone, the EUR subscriptions are counted as not checked too, never as missing."""
    args = [str(month / "invoice.csv"), str(month / "subscriptions.csv"), "--changes", str(month / "changes.csv"),
            "--as-of", AS_OF, "--json", "-", "--store", str(store)]
    data = json.loads(invoke("run", *args)[1])
    assert data["summary"]["not_checked_other_currency"] == 3
    assert {"Fabrikam Fiber GmbH", "Tailwind Traders B.V."}.isdisjoint(missing_customers(data))


def test_failed_provisioning_is_explained_but_needs_a_person(result: dict[str, Any]) -> None:
    """An explanation that rests on a Failed Provisioning record keeps that reason and needs a person."""
    (line,) = lines_of(result, "Tailspin Toys")
    assert outcome(line) == ("explained", "failed_provisioning", "ok", True)


def test_usage_and_one_time_lines_have_no_price_status(result: dict[str, Any]) -> None:
    """Usage and one-time lines are `not_applicable` on price, and need no person when matched."""
    for customer in ("Graphic Design Institute", "Trey Research"):
        for line in lines_of(result, customer):
            assert (line["price_status"], line["needs_person"]) == ("not_applicable", False), customer


@pytest.mark.parametrize(("customer", "price_status"), [
    ("Lucerne Publishing", "below_cost"), ("Humongous Insurance", "cost_changed"),
    ("Margie's Travel", "currency_mismatch"), ("School of Fine Art", "low_margin"),
])
def test_price_findings_need_a_person(result: dict[str, Any], customer: str, price_status: str) -> None:
    """With --min-margin 10 each planted price finding needs a person, though the seats match."""
    (line,) = lines_of(result, customer)
    assert outcome(line) == ("matched", "quantity_equal", price_status, True)


# --- several months ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> SamplePlan:
    return generate_sample(tmp_path_factory.mktemp("months"), lines=60, seed=7, months=3)


def test_each_month_through_the_command_line(story: SamplePlan, tmp_path: Path) -> None:
    """`recon run --json -` on each month of a three-month sample, into one store: the subscriptions that need
    a person are the plan's, month after month, and the store keeps every run."""
    store = tmp_path / "recon.db"
    for month in story.months:
        folder = month.invoice.parent
        args = [*run_args(folder)[:-1], month.as_of.isoformat()]
        code, out, _ = invoke("run", *args, "--json", "-", "--store", str(store))
        assert code == ExitCode.NEEDS_ATTENTION
        data = json.loads(out)
        assert data["summary"]["invoice_numbers"] == list(month.invoice_numbers)
        people = {(line.get("matched_subscription_id") or line["subscription_id"]).lower()
                  for line in data["lines"] if line["needs_person"]}
        people |= {entry["subscription_id"].lower() for entry in data["missing_subscriptions"]}
        assert people == set(month.exceptions()), month.period
    code, out, _ = invoke("runs", "--store", str(store))
    assert code == ExitCode.OK and out.count("\n") >= 3


def test_tailspin_story_through_explain(story: SamplePlan, tmp_path: Path) -> None:
    """The failed removal at Tailspin Toys, open since the first month or fixed in the second, reads so in
    `recon explain` of its second-month line."""
    second = story.months[1]
    case = second.case("explained_failed_provisioning")
    store = tmp_path / "recon.db"
    folder = second.invoice.parent
    code = invoke("run", *run_args(folder)[:-1], second.as_of.isoformat(), "--quiet", "--store", str(store))[0]
    assert code == ExitCode.NEEDS_ATTENTION
    (line_id,) = case.line_ids
    code, text, _ = invoke("explain", line_id, "--store", str(store))
    assert code == ExitCode.OK
    if case.expected_status == "explained":  # still open: the failed record is the evidence
        assert case.evidence[0] in text and "retry" in text
    else:
        assert "Provider and subscription both have 8 seats" in text
