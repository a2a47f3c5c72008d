"""The query language subset: filters, ordering, paging, counts, active-only name lists."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api


def rows(api: Api, text: str, entity: str = "Customer") -> list[dict[str, Any]]:
    answer = api.query(text)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["QueryResponse"].get(entity, []))


@pytest.fixture
def people(api: Api) -> list[dict[str, Any]]:
    made = []
    for index, name in enumerate(["Query Alpha", "Query Beta", "Query Gamma", "query delta"]):
        made.append(
            api.post(
                "customer",
                {
                    "DisplayName": name,
                    "CompanyName": f"Co {index}",
                    "PrimaryEmailAddr": {"Address": f"q{index}@example.com"},
                },
            ).json()["Customer"]
        )
    return made


def test_envelope_and_get_form(api: Api, people: list[dict[str, Any]]) -> None:
    answer = api.get("query", query="select * from Customer where DisplayName = 'Query Beta'")
    body = answer.json()
    assert set(body) == {"QueryResponse", "time"}
    assert body["QueryResponse"]["startPosition"] == 1
    assert body["QueryResponse"]["maxResults"] == 1
    assert body["QueryResponse"]["Customer"][0]["Id"] == people[1]["Id"]


def test_like_in_and_case(api: Api, people: list[dict[str, Any]]) -> None:
    assert len(rows(api, "SELECT * FROM Customer WHERE DisplayName LIKE 'query%'")) == 4
    assert len(rows(api, "select * from customer where DisplayName like '%ta'")) == 2
    found = rows(
        api, f"select * from Customer where Id IN ('{people[0]['Id']}', '{people[2]['Id']}')"
    )
    assert {r["DisplayName"] for r in found} == {"Query Alpha", "Query Gamma"}
    assert (
        rows(api, "select * from Customer where PrimaryEmailAddr = 'q3@example.com'")[0][
            "DisplayName"
        ]
        == "query delta"
    )


def test_comparisons_order_and_paging(api: Api, people: list[dict[str, Any]]) -> None:
    first = int(people[0]["Id"])
    newer = rows(api, f"select * from Customer where Id > '{first}' ORDERBY Id DESC")
    assert [r["Id"] for r in newer] == [p["Id"] for p in reversed(people[1:])]
    page = rows(
        api,
        "select * from Customer where DisplayName LIKE 'Query%' "
        "ORDER BY DisplayName ASC STARTPOSITION 2 MAXRESULTS 2",
    )
    assert [r["DisplayName"] for r in page] == ["Query Beta", "query delta"]
    stamp = people[2]["MetaData"]["LastUpdatedTime"]
    recent = rows(
        api,
        f"select * from Customer where MetaData.LastUpdatedTime >= '{stamp}' "
        "AND DisplayName LIKE 'Query%'",
    )
    assert {r["DisplayName"] for r in recent} >= {"Query Gamma", "query delta"}


def test_count_and_empty(api: Api, people: list[dict[str, Any]]) -> None:
    count = api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'Query%'").json()
    assert count["QueryResponse"] == {"totalCount": 4}
    empty = api.query("select * from Customer where DisplayName = 'Nobody'").json()
    assert empty["QueryResponse"] == {}


def test_inactive_hidden_unless_asked(api: Api, people: list[dict[str, Any]]) -> None:
    gone = people[0]
    api.post(
        "customer",
        {"Id": gone["Id"], "SyncToken": gone["SyncToken"], "sparse": True, "Active": False},
    )
    assert not rows(api, "select * from Customer where DisplayName = 'Query Alpha'")
    assert rows(
        api, "select * from Customer where DisplayName = 'Query Alpha' and Active IN (true, false)"
    )
    assert rows(api, "select * from Customer where Active = false")[0]["Id"] == gone["Id"]


def test_max_results_caps_at_1000(api: Api) -> None:
    answer = api.query("select * from Item MAXRESULTS 5000").json()["QueryResponse"]
    assert answer["maxResults"] == len(answer["Item"]) <= 1000


def test_projection(api: Api, people: list[dict[str, Any]]) -> None:
    found = rows(api, "select Id, DisplayName from Customer where DisplayName = 'Query Beta'")
    assert found[0]["DisplayName"] == "Query Beta" and "CompanyName" not in found[0]


def test_parse_errors_are_4000(api: Api) -> None:
    for text in (
        "select * from",
        "select * from Customer where",
        "delete from Customer",
        "select * from Nonsense",
    ):
        answer = api.query(text)
        assert answer.status_code == 400
        assert answer.json()["Fault"]["Error"][0]["code"] == "4000", text


def test_names_that_look_like_numbers_compare_as_text(api: Api) -> None:
    api.post("customer", {"DisplayName": "NaN"})
    api.post("customer", {"DisplayName": "007"})
    assert rows(api, "select * from Customer where DisplayName = 'nan'")[0]["DisplayName"] == "NaN"
    assert rows(api, "select * from Customer where DisplayName = '007'")[0]["DisplayName"] == "007"
    assert rows(api, "select * from Customer where DisplayName = '7'") == []
