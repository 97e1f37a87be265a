"""The throttled benchmark's own arithmetic (bench/throttled.py), without a server: what it
reads from the connector's log, and the refusal floor."""

from bench.throttled import read_log, refusal_floor

LOG = """\
16:51:24.335 WARNING  ⚡ connector Authorization: HTTP 429: Too many requests. from http://h/act.web.api/authorize; retry 1 in 1.0s
16:51:28.474 WARNING  ⚡ connector Table 'opportunity_products': HTTP 429: Too many requests. from http://h/api/opportunities/a/products?$top=500; retry 1 in 1.0s
16:51:28.474 WARNING  ⚡ connector Table 'opportunity_products': HTTP 503: Busy. from http://h/api/opportunities/b/products?$top=500; retry 2 in 1.0s
16:51:28.475 WARNING  ⚡ connector Table 'opportunity_products': ConnectionError: Remote end closed connection without response from http://h/api/opportunities/c/products; retry 1 in 0.0s
16:51:30.736 INFO     ⚡ connector Table 'opportunity_products': the Act! token expired; authorizing again
16:52:13.686 INFO     ⚡ connector Sync finished in 46.3s: 2 table(s), read 245, written 245, deleted 0; 246 requests, 4 retries, 2 throttled, 3.5s paused, 2 token renewals
"""  # noqa: E501


def test_the_log_gives_retries_and_waits_by_cause_and_the_pauses_left():
    read = read_log(LOG)
    assert read["retries"] == {"authorize 429": 1, "429": 1, "503": 1, "ConnectionError": 1}
    assert read["retry_wait_seconds"]["503"] == 1.0
    assert read["rate_limit_pause_seconds"] == 0.5  # 3.5 s paused, 3.0 of them after retries
    assert (read["requests"], read["token_renewals"], read["expired_tokens"]) == (246, 2, 1)


def test_the_floor_shares_the_workers_waits_and_counts_the_schema_steps_whole():
    told = {"fields": 1.0, "authorization": 5.0, "opportunity_products": 40.0}
    # 2 s clean; fields' 1 s and the first /authorize's 1 s whole; 44 s shared by 4 workers
    assert refusal_floor(2.0, told) == 2.0 + 2.0 + 44.0 / 4
