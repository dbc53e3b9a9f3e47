"""Budgets (ARCHITECTURE.md, "Performance budgets"), the cost model, and docs/benchmarks.md.

Every figure is printed beside its budget with pass or fail; a figure that could not be measured says why (never a
number made up). The cost table turns measured counts into dollars with the prices and usage assumptions below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from devstack import template

# --- budgets ----------------------------------------------------------------------------------------------------------
COLD_RATIO = 2.0  # × the floor, import boto3; boto3.client("dynamodb")
COLD_SPREAD_SECONDS = 0.15  # above the median of all functions
READ_CALLS = 2  # DynamoDB calls of a read route, the authorization read included
PAGE_CALLS = 3  # … of a portal page
WARM_OVERHEAD_MS = 5.0  # p50 outside AWS calls
RENEWAL_RATIO = 1.5  # × a raw loop of the same TransactWrites
WEBHOOK_P95_SECONDS = 2.0
MONTHLY_COST_PER_1000 = 5.0  # US$

# --- prices (US$, AWS list prices for eu-west-1 as published in 2025; check before relying on them) -----------------
PRICES = {
    "api_gateway_rest_per_million": 3.50,
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_requests_per_million": 0.20,
    "dynamodb_read_units_per_million": 0.1415,  # on-demand, after the November 2024 reduction
    "dynamodb_write_units_per_million": 0.7072,
    "dynamodb_storage_gb_month": 0.283,
    "ses_per_thousand_emails": 0.10,
    "eventbridge_events_per_million": 1.00,
    "sqs_requests_per_million": 0.40,
    "step_functions_transitions_per_thousand": 0.025,
    "cognito_lite_per_mau_beyond_free_tier": 0.0055,
    "xray_traces_per_million": 5.00,
    "cloudwatch_logs_ingestion_gb": 0.57,
    "s3_storage_gb_month": 0.024,
    "cloudwatch_alarm_month": 0.10,
    "secrets_manager_secret_month": 0.40,
}

# --- what 1,000 customers do in a month (assumptions, stated in the report) -------------------------------------------
USAGE = {
    "portal_page_views": 16,  # two visits of eight pages
    "api_reads": 10,  # apps and scripts reading invoices, services, tickets
    "api_writes": 2,  # a ticket reply, a contact change…
    "logins": 2,
    "services": 1,  # one monthly service: one renewal invoice and one payment a month
    "emails": 4,  # invoice issued, payment received, a ticket answer, one notice
    "overdue_share": 0.10,  # invoices that run the whole dunning cycle; the others end at the first check
    "paid_cycle_transitions": 6,  # plan → wait → check → done, assumed for an invoice paid on time
    "cold_start_share": 0.05,  # invocations that pay a cold init
    "cognito_mau_share": 0.60,  # customers who sign in during the month
    "log_bytes_per_invocation": 1500,
    "xray_sampled_share": 0.05,
    "storage_kb_per_customer": 200,  # items in the table
    "pdf_kb_per_customer_month": 60,  # the invoice PDF, kept
}


@dataclass
class Line:
    figure: str
    value: str
    budget: str
    verdict: str  # pass, FAIL, info, not measured


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if not math.isnan(seconds) else "—"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def _cold_verdict(ratio_ok: bool, spread_ok: bool) -> str:
    missed = [name for name, ok in (("ratio", ratio_ok), ("spread", spread_ok)) if not ok]
    return f"FAIL ({' and '.join(missed)})" if missed else "pass"


# --- evaluation -------------------------------------------------------------------------------------------------------
def cold_lines(cold: dict[str, Any]) -> list[Line]:
    if not cold.get("measured"):
        return [Line("cold init", "not measured", f"≤ {COLD_RATIO}× floor", f"not measured: {cold.get('reason')}")]
    floor, middle = cold["floor_seconds"], cold["median_of_functions_seconds"]
    lines = [Line('cold init floor: import boto3; boto3.client("dynamodb")', _ms(floor), "—", "info")]
    for name, figure in sorted(cold["functions"].items()):
        if not figure["runs"]:
            lines.append(Line(f"cold init {name}", "no successful run", "—", f"FAIL {figure['errors'][:1]}"))
            continue
        ratio_ok = figure["ratio_to_floor"] <= COLD_RATIO
        spread_ok = figure["total_seconds"] <= middle + COLD_SPREAD_SECONDS
        lines.append(
            Line(
                f"cold init {name} ({figure['event']})",
                f"{_ms(figure['total_seconds'])} = {figure['ratio_to_floor']:.2f}× floor "
                f"(import {_ms(figure['import_seconds'])}, first call {_ms(figure['invoke_seconds'])})",
                f"≤ {COLD_RATIO}× floor and ≤ median {_ms(middle)} + {COLD_SPREAD_SECONDS * 1000:.0f} ms",
                _cold_verdict(ratio_ok, spread_ok),
            )
        )
    return lines


def route_lines(routes: dict[str, Any]) -> list[Line]:
    if not routes.get("measured"):
        return [Line("DynamoDB calls per route", "not measured", "", f"not measured: {routes.get('reason')}")]
    lines = []
    for row in routes["routes"]:
        read = row["method"] == "GET"
        budget = f"≤ {READ_CALLS}, 0 Scan" if read else "0 Scan"
        ok = row["scans"] == 0 and (not read or row["dynamodb_calls"] <= READ_CALLS)
        note = "" if 200 <= row["status"] < 400 else f" (answered {row['status']})"
        lines.append(
            Line(
                f"{row['method']} {row['path']}",
                f"{row['dynamodb_calls']} calls, {row['scans']} Scan{note}",
                budget,
                _verdict(ok),
            )
        )
    return lines


def warm_lines(warm: dict[str, Any]) -> list[Line]:
    lines = []
    for row in warm.get("routes", []):
        label = f"warm {row['method']} {row['path']}"
        if not row.get("measured"):
            lines.append(Line(label, "—", f"p50 ≤ {WARM_OVERHEAD_MS:.0f} ms", f"not measured: {row.get('reason')}"))
            continue
        lines.append(
            Line(
                label,
                f"outside AWS p50 {row['overhead_p50_ms']:.1f} ms, p99 {row['overhead_p99_ms']:.1f} ms "
                f"(total p50 {row['total_p50_ms']:.1f} ms, in AWS calls {row['aws_p50_ms']:.1f} ms; "
                f"HTTP {','.join(map(str, row['statuses']))})",
                f"p50 ≤ {WARM_OVERHEAD_MS:.0f} ms outside AWS calls",
                _verdict(row["overhead_p50_ms"] <= WARM_OVERHEAD_MS),
            )
        )
    return lines


def renewal_lines(renewal: dict[str, Any]) -> list[Line]:
    if not renewal.get("measured"):
        return [Line("renewal run", "—", f"≤ {RENEWAL_RATIO}× raw loop", f"not measured: {renewal.get('reason')}")]
    return [
        Line(
            f"renewal run over {renewal['due_services']:,} due services",
            f"{renewal['ratio_median_of_days']:.2f}× the raw loop (median of 7 due days; whole run "
            f"{renewal['run_seconds']:.1f} s vs {renewal['raw_seconds']:.1f} s = {renewal['ratio_whole_run']:.2f}×)",
            f"≤ {RENEWAL_RATIO}× a raw loop of the same TransactWrites",
            _verdict(renewal["ratio_median_of_days"] <= RENEWAL_RATIO),
        )
    ]


def webhook_lines(webhook: dict[str, Any]) -> list[Line]:
    if not webhook.get("measured"):
        return [
            Line(
                "payment webhook → unsuspended",
                "—",
                f"p95 ≤ {WEBHOOK_P95_SECONDS:.0f} s",
                f"not measured: {webhook.get('reason')}",
            )
        ]
    return [
        Line(
            f"payment webhook → unsuspended ({webhook['payments']} payments)",
            f"p50 {webhook['p50_seconds']:.2f} s, p95 {webhook['p95_seconds']:.2f} s"
            + (
                f"; {webhook['not_unsuspended_in_15s']} not unsuspended in 15 s"
                if webhook["not_unsuspended_in_15s"]
                else ""
            ),
            f"p95 ≤ {WEBHOOK_P95_SECONDS:.0f} s",
            _verdict(webhook["p95_seconds"] <= WEBHOOK_P95_SECONDS and not webhook["not_unsuspended_in_15s"]),
        )
    ]


def page_lines(pages: dict[str, Any]) -> list[Line]:
    lines = []
    for row in pages.get("pages", []):
        note = "" if 200 <= row["status"] < 400 else f" (answered {row['status']})"
        first = row.get("first_visit_dynamodb_calls", row["dynamodb_calls"])
        if first != row["dynamodb_calls"]:
            note += f" ({first} on a container's first visit)"
        lines.append(
            Line(
                f"page GET {row['path']}",
                f"p50 {row['p50_ms']:.1f} ms, {row['dynamodb_calls']} DynamoDB calls{note}",
                f"≤ {PAGE_CALLS} DynamoDB calls, 0 Scan",
                _verdict(row["dynamodb_calls"] <= PAGE_CALLS and row["scans"] == 0),
            )
        )
    return lines


def dunning_lines(dunning: dict[str, Any]) -> list[Line]:
    if not dunning.get("measured"):
        return [
            Line(
                "Step Functions transitions per dunning cycle",
                "—",
                "(priced in the cost table)",
                f"not measured: {dunning.get('reason')}",
            )
        ]
    return [
        Line(
            "Step Functions transitions per dunning cycle (invoice never paid)",
            f"{dunning['transitions']} transitions over {dunning['days_walked']} days ({dunning['execution_status']})",
            "(priced in the cost table)",
            "info",
        )
    ]


def load_lines(load: dict[str, Any]) -> list[Line]:
    if not load.get("measured"):
        return [Line("load", "—", "no errors", f"not measured: {load.get('reason')}")]
    lines = [
        Line(
            f"load: {load['customers']} customers for {load['seconds']:.0f} s",
            f"{load['requests']:,} requests, {load['requests_per_second']:.0f}/s, {load['errors']} errors",
            "no errors",
            _verdict(load["errors"] == 0),
        )
    ]
    for row in load["routes"]:
        kinds = f" ({', '.join(row['error_kinds'])})" if row["error_kinds"] else ""
        lines.append(
            Line(
                f"load {row['route']}",
                f"p95 {row['p95_ms']:.0f} ms (p50 {row['p50_ms']:.0f} ms), {row['requests']} requests, "
                f"{row['errors']} errors{kinds}",
                "no errors",
                _verdict(row["errors"] == 0),
            )
        )
    return lines


# --- the cost table ---------------------------------------------------------------------------------------------------
def cost_table(results: dict[str, Any]) -> dict[str, Any]:
    """Monthly AWS cost for 1,000 customers from the measured counts; fixed costs listed apart."""
    customers = 1000
    routes = (results.get("dynamodb_per_route") or {}).get("routes", [])
    warm = [r for r in (results.get("warm_handler") or {}).get("routes", []) if r.get("measured")]
    pages = (results.get("portal_pages") or {}).get("pages", [])
    renewal = results.get("renewal") or {}
    dunning = results.get("dunning_transitions") or {}
    cold = results.get("cold_init") or {}

    def mean(values: list[float], default: float) -> float:
        return sum(values) / len(values) if values else default

    read_calls = mean([r["dynamodb_calls"] for r in routes if r["method"] == "GET" and r["status"] < 400], 2.0)
    write_calls = mean([r["dynamodb_calls"] for r in routes if r["method"] != "GET" and r["status"] < 400], 5.0)
    page_calls = mean([r["dynamodb_calls"] for r in pages if r["status"] < 400], 3.0)
    request_ms = mean([r["total_p50_ms"] for r in warm], 20.0)
    page_ms = mean([r["p50_ms"] for r in pages if r["status"] < 400], 20.0)
    actions = float(renewal.get("actions_per_transaction") or 8.0)
    transitions = float(dunning["transitions"]) if dunning.get("measured") else None
    cold_seconds = float(cold.get("median_of_functions_seconds") or 1.0) if cold.get("measured") else 1.0

    u = USAGE
    requests_api = customers * (u["api_reads"] + u["api_writes"] + u["logins"])
    requests_pages = customers * u["portal_page_views"]
    requests_total = requests_api + requests_pages
    renewals = customers * u["services"]
    events = renewals * 3 + customers * u["emails"]  # issued, paid, due-date moved; one per email at least
    consumer_invocations = events * 2  # the stream publisher and one consumer per event, batches not counted
    invocations = requests_total + consumer_invocations + 30 * 24 * 3  # plus the scheduled jobs
    gb_seconds = 1.0 * (
        requests_api * request_ms / 1000
        + requests_pages * page_ms / 1000
        + consumer_invocations * request_ms / 1000
        + invocations * u["cold_start_share"] * cold_seconds
    )
    read_units = (
        customers * (u["portal_page_views"] * page_calls + (u["api_reads"] + u["logins"]) * read_calls) + renewals * 3
    )
    # Transactional writes cost 2 units per item (≤ 1 KB); a payment's settlement is sized like a renewal's issue.
    write_units = customers * u["api_writes"] * write_calls * 2 + renewals * actions * 2 * 2 + events * 2
    full_cycles = renewals * u["overdue_share"]
    sfn_transitions = (
        full_cycles * transitions + (renewals - full_cycles) * u["paid_cycle_transitions"] if transitions else None
    )
    log_gb = invocations * u["log_bytes_per_invocation"] / 1e9
    rows = [
        (
            "API Gateway (REST)",
            f"{requests_total:,} requests",
            requests_total / 1e6 * PRICES["api_gateway_rest_per_million"],
        ),
        (
            "Lambda (arm64, 1 GB)",
            f"{invocations:,} invocations, {gb_seconds:,.0f} GB-s",
            gb_seconds * PRICES["lambda_arm_gb_second"] + invocations / 1e6 * PRICES["lambda_requests_per_million"],
        ),
        (
            "DynamoDB on-demand",
            f"{read_units:,.0f} read units, {write_units:,.0f} write units",
            read_units / 1e6 * PRICES["dynamodb_read_units_per_million"]
            + write_units / 1e6 * PRICES["dynamodb_write_units_per_million"]
            + customers * u["storage_kb_per_customer"] / 1e6 * PRICES["dynamodb_storage_gb_month"],
        ),
        (
            "SES",
            f"{customers * u['emails']:,} emails",
            customers * u["emails"] / 1000 * PRICES["ses_per_thousand_emails"],
        ),
        (
            "EventBridge + SQS",
            f"{events:,} events",
            events / 1e6 * (PRICES["eventbridge_events_per_million"] + 3 * PRICES["sqs_requests_per_million"]),
        ),
        (
            "Step Functions (standard)",
            f"{sfn_transitions:,.0f} transitions" if sfn_transitions is not None else "not measured",
            sfn_transitions / 1000 * PRICES["step_functions_transitions_per_thousand"] if sfn_transitions else 0.0,
        ),
        (
            "Cognito (Lite, beyond the free tier)",
            f"{customers * u['cognito_mau_share']:,.0f} MAU",
            customers * u["cognito_mau_share"] * PRICES["cognito_lite_per_mau_beyond_free_tier"],
        ),
        (
            "X-Ray",
            f"{invocations * u['xray_sampled_share']:,.0f} traces",
            invocations * u["xray_sampled_share"] / 1e6 * PRICES["xray_traces_per_million"],
        ),
        ("CloudWatch Logs", f"{log_gb:.2f} GB", log_gb * PRICES["cloudwatch_logs_ingestion_gb"]),
        (
            "S3 (PDFs)",
            f"{customers * u['pdf_kb_per_customer_month'] / 1e6:.2f} GB added",
            customers * u["pdf_kb_per_customer_month"] / 1e6 * PRICES["s3_storage_gb_month"],
        ),
    ]
    total = sum(cost for _, _, cost in rows)
    resources = template.resources()
    alarms = sum(1 for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm")
    secrets = sum(1 for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret")
    fixed = [
        (f"CloudWatch alarms ({alarms})", alarms * PRICES["cloudwatch_alarm_month"]),
        (f"Secrets Manager secrets ({secrets})", secrets * PRICES["secrets_manager_secret_month"]),
    ]
    return {
        "rows": [{"service": s, "usage": usage, "usd": cost} for s, usage, cost in rows],
        "total_usd": total,
        "fixed": [{"item": item, "usd": cost} for item, cost in fixed],
        "inputs": {
            "dynamodb_calls_per_read": read_calls,
            "dynamodb_calls_per_write": write_calls,
            "dynamodb_calls_per_page": page_calls,
            "api_request_ms": request_ms,
            "page_ms": page_ms,
            "actions_per_renewal": actions,
            "transitions_per_full_dunning_cycle": transitions,
            "cold_init_seconds": cold_seconds,
        },
        "usage": USAGE,
        "prices": PRICES,
    }


def cost_lines(cost: dict[str, Any]) -> list[Line]:
    return [
        Line(
            "AWS cost per 1,000 customers per month (variable)",
            f"US${cost['total_usd']:.2f} (+ US${sum(f['usd'] for f in cost['fixed']):.2f} fixed)",
            f"≤ US${MONTHLY_COST_PER_1000:.0f}",
            _verdict(cost["total_usd"] <= MONTHLY_COST_PER_1000),
        )
    ]


def evaluate(results: dict[str, Any]) -> dict[str, list[Line]]:
    results["cost"] = cost_table(results)
    return {
        "Cold init (fresh interpreter, compiled layer, import + first invocation; median of runs)": cold_lines(
            results.get("cold_init") or {}
        ),
        "DynamoDB calls per route (authorized caller, valid data)": route_lines(
            results.get("dynamodb_per_route") or {}
        ),
        "Warm handler time (in-process on moto, time outside AWS calls)": warm_lines(results.get("warm_handler") or {}),
        "Renewal run (in-process, fast transactions, no workflow starter)": renewal_lines(results.get("renewal") or {}),
        "Payment webhook → service unsuspended (devstack)": webhook_lines(results.get("webhook_to_unsuspended") or {}),
        "Portal pages (server time in-process, signed in)": page_lines(results.get("portal_pages") or {}),
        "Dunning (Step Functions)": dunning_lines(results.get("dunning_transitions") or {}),
        "Cost": cost_lines(results["cost"]),
        "Load (devstack on loopback)": load_lines(results.get("load") or {}),
    }


# --- output -----------------------------------------------------------------------------------------------------------
def print_summary(sections: dict[str, list[Line]]) -> None:
    for title, lines in sections.items():
        print(f"\n{title}")
        for line in lines:
            print(f"  [{line.verdict:<4.60}] {line.figure}: {line.value}   (budget {line.budget})")


def failures(sections: dict[str, list[Line]]) -> list[str]:
    return [
        f"{line.figure}: {line.value}"
        for lines in sections.values()
        for line in lines
        if line.verdict.startswith("FAIL")
    ]


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(results: dict[str, Any], sections: dict[str, list[Line]], meta: dict[str, Any], notes: str) -> str:
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`; the code is in `bench/`, the raw figures in "
        "`bench/results.json`).",
        'Budgets are ARCHITECTURE.md\'s "Performance budgets"; each figure is printed beside its budget.',
        "",
        f"- run: {meta['started']} on {meta['machine']}, Python {meta['python']}, {meta['cpus']} CPUs, "
        f"load average at start {meta['load_average']}; whole run {meta['seconds']:.0f} s",
        f"- {meta['caveat']}",
    ]
    if meta.get("lanes"):
        plan = " → ".join(" ∥ ".join(" then ".join(lane) for lane in stage) for stage in meta["lanes"])
        out.append(
            f"- parts: {plan} (→: one stage after the other; ∥: lanes side by side; within a lane, one part after the "
            "other, each in its own interpreter)"
        )
    out.append("")
    failing = failures(sections)
    out += [
        f"**{len(failing)} figure(s) over budget**" if failing else "**Every measured figure is within budget.**",
        "",
    ]
    for title, lines in sections.items():
        out += [f"## {title}", "", "| figure | measured | budget | result |", "|---|---|---|---|"]
        out += [
            f"| {_escape(line.figure)} | {_escape(line.value)} | {_escape(line.budget)} | {_escape(line.verdict)} |"
            for line in lines
        ]
        out.append("")
        if title == "Cost":
            cost = results["cost"]
            out += ["| AWS service | usage per 1,000 customers per month | US$ |", "|---|---|---|"]
            out += [f"| {r['service']} | {r['usage']} | {r['usd']:.2f} |" for r in cost["rows"]]
            out += [f"| **variable total** | | **{cost['total_usd']:.2f}** |", ""]
            out += ["Fixed monthly costs, whatever the number of customers:", ""]
            out += [f"- {f['item']}: US${f['usd']:.2f}" for f in cost["fixed"]]
            out += [
                "",
                "Measured inputs: "
                + ", ".join(
                    f"{k.replace('_', ' ')} {v:.1f}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                    for k, v in cost["inputs"].items()
                ),
                "",
                "Assumptions per customer per month: "
                + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in cost["usage"].items())
                + ". Prices: AWS list prices for eu-west-1 as published in 2025, in `bench/report.py`; the Cognito "
                "line assumes the account is beyond Lite's free tier (the first 10,000 MAU cost nothing).",
                "",
            ]
    if notes.strip():
        out += ["## Gaps and plans", "", notes.strip(), ""]
    return "\n".join(out)
