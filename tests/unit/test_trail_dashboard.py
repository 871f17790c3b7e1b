"""The dashboard's Logs Insights widgets: each query parses, names the stack's log groups, and counts what it says
when run over trail lines; the small Logs Insights that runs them (connector/core/insights.py); the trail setting."""

from __future__ import annotations

import json
import re

import pytest
from connector.adapters.trail_log import trail_line
from connector.adapters.trail_query import LOG_GROUP_OUTPUTS
from connector.core import insights
from connector.core.errors import ConfigError
from connector.core.settings import Settings
from connector.core.trail import trail_record
from connector.core.trail_queries import REPORT_QUERIES, trace_query, with_sources

from local.template import function_environment

SUB_VARIABLE = re.compile(r"\$\{([^}.]+)\}")
LOG_GROUPS = {"IngestFunction": "IngestLogGroup", "BatchSenderFunction": "BatchSenderLogGroup"}


def log_widgets(template: dict) -> list[dict]:
    """The log widgets, `${LogicalId}` left as written (CloudFormation puts the log group's name there)."""
    text, variables = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body = json.loads(SUB_VARIABLE.sub(lambda m: str(variables.get(m.group(1), "${" + m.group(1) + "}")), text))
    return [widget for widget in body["widgets"] if widget["type"] == "log"]


def test_each_functions_log_group_is_the_one_the_widgets_read(template):
    resources = template["Resources"]
    for function, group in LOG_GROUPS.items():
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert resources[function]["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": group}
    for widget in log_widgets(template):
        parsed = insights.parse(widget["properties"]["query"])
        assert parsed.sources == ["${IngestLogGroup}", "${BatchSenderLogGroup}"], widget["properties"]["title"]


def test_the_widgets_run_the_report_commands_queries(template):
    widgets = log_widgets(template)
    assert [w["properties"]["title"] for w in widgets] == [query.title for query in REPORT_QUERIES]
    for widget, query in zip(widgets, REPORT_QUERIES, strict=True):
        assert widget["properties"]["query"] == with_sources(
            query.query, ["${IngestLogGroup}", "${BatchSenderLogGroup}"]
        )
        assert widget["properties"]["view"] == "table" and widget["properties"]["region"] == "${AWS::Region}"


def test_the_stack_outputs_name_the_log_groups_trace_reads(template):
    outputs = template["Outputs"]
    assert [outputs[name]["Value"] for name in LOG_GROUP_OUTPUTS] == [
        {"Ref": "IngestLogGroup"},
        {"Ref": "BatchSenderLogGroup"},
    ]


def sample_lines() -> list[dict]:
    """Trail lines as the functions write them: two purchases (one without keys), a weak page view, two rejections."""
    strong = {"id": "O1", "type": "order_created", "oppref": "opp", "user": {"emails_sha256": ["ab" * 32]}}
    weak = {"id": "P1", "type": "page_viewed", "user": {"ip_address": "198.51.100.23", "user_agent": "UA"}}
    records = [
        trail_record("ingest", "received", "purchase", strong),
        trail_record("ingest", "sent", "purchase", strong),
        trail_record("batch", "sent", "purchase", strong | {"id": "O2", "oppref": None, "user": {}}),
        trail_record("ingest", "queued", "page_view", weak),
        trail_record("batch", "validated", "page_view", weak),
        trail_record("ingest", "rejected", "purchase", None, event_id="O3", reason_field="data.currency"),
        trail_record("batch", "dead_lettered", "purchase", strong, reason_field="timestamp_ms"),
    ]
    lines = [json.loads(trail_line(record, 1_795_000_000)) for record in records]
    lines.append({"message": "weak_match_keys", "level": "WARNING", "action": "page_view"})
    lines.append({"message": "ingest done", "action": "purchase", "sent": 1})
    return lines


def run(template: dict, title: str) -> list[dict]:
    (widget,) = [w for w in log_widgets(template) if w["properties"]["title"].startswith(title)]
    return insights.parse(widget["properties"]["query"]).run(sample_lines())


def test_match_keys_widget_gives_the_share_of_sent_events_carrying_each_key(template):
    rows = {row["action"]: row for row in run(template, "Match keys")}
    assert (rows["purchase"]["sent"], rows["purchase"]["oppref"], rows["purchase"]["email"]) == (2, 0.5, 0.5)
    assert (rows["page_view"]["sent"], rows["page_view"]["ip_ua"], rows["page_view"]["email"]) == (1, 1.0, 0.0)
    assert [row["action"] for row in run(template, "Match keys")] == ["purchase", "page_view"]  # most sent first


def test_the_other_widgets_count_weak_events_rejections_by_field_and_warnings(template):
    assert run(template, "Sent without a strong key") == [
        {"action": "purchase", "without_strong_key": 1},
        {"action": "page_view", "without_strong_key": 1},
    ]
    assert sorted((r["step"], r["reason_field"], r["events"]) for r in run(template, "Rejected")) == [
        ("batch", "timestamp_ms", 1),
        ("ingest", "data.currency", 1),
    ]
    assert run(template, "Warnings") == [{"action": "page_view", "warnings": 1}]


def test_the_trace_query_escapes_the_id_it_looks_for():
    lines = [{**line, "@message": json.dumps(line)} for line in sample_lines()]
    assert [row["event_id"] for row in insights.parse(trace_query("O1")).run(lines)] == ["O1"] * 3
    tricky = 'O1" or event_id = "P1'
    assert insights.parse(trace_query(tricky)).run(lines) == []
    assert [row["action"] for row in insights.parse(trace_query("P1", "page_view")).run(lines)] == ["page_view"] * 2


@pytest.mark.parametrize(
    "query, problem",
    [
        ("filter a = 1 | frobnicate", "unknown command"),
        ("filter (a = 1", "not closed"),
        ("filter a ~ 1", "cannot read"),
        ("filter a b 1", "unknown operator"),
        ("stats median(a) by b", "function"),
        ("stats sum(*)", "count(*)"),
        ("sort a sideways", "sort"),
        ("limit many", "limit"),
        ("filter a = 1 |", "empty stage"),
        ("SOURCE group", "SOURCE"),
        ('filter a = "unclosed', "cannot read"),
    ],
)
def test_a_query_outside_the_subset_is_refused_saying_where(query, problem):
    with pytest.raises(insights.QuerySyntaxError, match=re.escape(problem)):
        insights.parse(query)


def test_filters_read_booleans_as_numbers_and_never_match_a_missing_field():
    rows = [{"a": True, "s": "x"}, {"a": False, "s": "y"}, {"s": "z"}]
    assert insights.parse("filter a = 1").run(rows) == [rows[0]]
    assert insights.parse('filter a = 0 or s = "z"').run(rows) == rows[1:]
    assert insights.parse("filter not ispresent(a)").run(rows) == [rows[2]]
    assert insights.parse('filter s = "x" or s = "y" and a = 1').run(rows) == [rows[0]]  # and binds tighter
    assert insights.parse("filter s = 1").run(rows) == []  # a string is never a number
    assert insights.parse("stats sum(a) as n, count(a) as c, count(*) as all").run(rows) == [{"n": 1, "c": 2, "all": 3}]
    assert insights.parse("sort s desc | limit 1").run(rows) == [rows[2]]


def test_the_trail_setting_is_a_parameter_both_functions_read(template):
    parameter = template["Parameters"]["EventTrail"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("on", ["on", "off"])
    for function in LOG_GROUPS:
        assert function_environment(template, function)["EVENT_TRAIL"] == {"Ref": "EventTrail"}
    assert Settings.from_env({"EVENT_TRAIL": "off"}).event_trail is False
    assert Settings.from_env({}).event_trail is True
    with pytest.raises(ConfigError, match="EVENT_TRAIL: must be on or off"):
        Settings.from_env({"EVENT_TRAIL": "no"})
