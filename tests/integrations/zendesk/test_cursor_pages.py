"""``ZendeskApi.cursor_pages``: the one pager of the cursor-paginated lists (a ticket's comments,
an organization's members), shapes as in Zendesk's "Pagination" guide (``meta.has_more``,
``meta.after_cursor``, ``page[after]``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from context_service.errors import FatalError
from integrations._http import VendorHttp
from integrations.zendesk.api import RateLimiter, ZendeskApi

PATH = "/api/v2/organizations/7/users.json"


def _api(pages: dict[str | None, Any], asked: list[str | None]) -> ZendeskApi:
    """An API whose list answers ``pages[page[after]]`` (a 404 for a missing cursor)."""

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("page[after]")
        asked.append(after)
        if after not in pages:
            return httpx.Response(404, json={"error": "RecordNotFound"})
        return httpx.Response(200, json=pages[after])

    client = httpx.Client(transport=httpx.MockTransport(handler))
    http = VendorHttp(client, base_url="https://acme.zendesk.com", sleep=lambda _: None)
    return ZendeskApi(http, RateLimiter(10, 60.0, now=lambda: 0.0, sleep=lambda _: None))


def _page(ids: list[int], after: str | None = None) -> dict[str, Any]:
    return {
        "users": [{"id": i} for i in ids],
        "meta": {"has_more": after is not None, "after_cursor": after},
    }


def _ids(api: ZendeskApi) -> list[int]:
    pages = api.cursor_pages(PATH, [("page[size]", "100")], "members of organization 7")
    return [user["id"] for page in pages for user in page["users"]]


def test_every_page_is_read_in_order_until_one_without_more() -> None:
    asked: list[str | None] = []
    api = _api({None: _page([1, 2], "c1"), "c1": _page([3], "c2"), "c2": _page([4])}, asked)
    assert _ids(api) == [1, 2, 3, 4]
    assert asked == [None, "c1", "c2"]


def test_a_list_that_is_gone_has_no_pages_and_one_gone_midway_ends_there() -> None:
    assert _ids(_api({}, [])) == []
    assert _ids(_api({None: _page([1], "c1")}, [])) == [1]


def test_more_without_a_cursor_is_fatal() -> None:
    broken = {"users": [], "meta": {"has_more": True, "after_cursor": None}}
    with pytest.raises(FatalError, match="has_more without an after_cursor"):
        _ids(_api({None: broken}, []))


def test_a_cursor_that_comes_back_is_fatal_instead_of_a_loop() -> None:
    asked: list[str | None] = []
    api = _api({None: _page([1], "c1"), "c1": _page([2], "c1")}, asked)
    with pytest.raises(FatalError, match="repeated"):
        _ids(api)
    assert asked == [None, "c1"]


def test_a_malformed_meta_is_fatal() -> None:
    with pytest.raises(FatalError, match="malformed page meta"):
        _ids(_api({None: {"users": [], "meta": {"has_more": "maybe"}}}, []))
