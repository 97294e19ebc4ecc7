"""Tests of the FakeSlack test double, driven by a real slack_sdk WebClient."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import types
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry import handler as retry_handler_module
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def fake():
    with FakeSlack() as server:
        server.add_channel("c1", "C1")
        server.add_channel("c2", "C2")
        yield server


@pytest.fixture
def client(fake):
    return WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5, retry_handlers=[])


@pytest.fixture
def sleeps(monkeypatch):
    """Make slack_sdk retry handlers record their back-off instead of sleeping."""
    recorded: list[float] = []
    fake_time = types.SimpleNamespace(sleep=recorded.append)
    monkeypatch.setattr(builtin_handlers, "time", fake_time)
    monkeypatch.setattr(retry_handler_module, "time", fake_time)
    return recorded


def post(client, channel="C1", text="hi", **kwargs):
    return client.chat_postMessage(channel=channel, text=text, **kwargs)


# ----- basics ----------------------------------------------------------------


def test_base_url_and_auth_test(fake, client):
    assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/api/")
    resp = client.auth_test()
    assert resp["team_id"] == "T0001" and resp["user_id"] == "UBOT" and resp["bot_id"] == "B0001"
    assert resp["team"] == "Test Team" and resp["url"]
    call = fake.calls_to("auth.test")[0]
    assert call.headers["authorization"] == "Bearer xoxb-test" and not call.failed


def test_team_id_is_configurable():
    with FakeSlack(team_id="T999") as other:
        assert WebClient(token="xoxb-x", base_url=other.base_url).auth_test()["team_id"] == "T999"


def test_missing_token_is_not_authed(fake):
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.base_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_authed"
    assert fake.messages("C1") == []


def test_unknown_method(fake, client):
    with pytest.raises(SlackApiError) as err:
        client.api_call("nope.nothing")
    assert err.value.response["error"] == "unknown_method"
    assert fake.take_violations() == ["nope.nothing: unknown method, not in Slack's Web API"]


def test_team_info_and_users_conversations(fake, client):
    fake.scopes |= {"team:read"}  # not in the manifest
    fake.set_members("C7", ["U1"])
    assert client.team_info()["team"]["id"] == "T0001"
    assert "C7" in [c["id"] for c in client.users_conversations()["channels"]]


# ----- messages ----------------------------------------------------------------


def test_post_message_returns_increasing_ts_and_stores(fake, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = post(client, blocks=blocks)
    second = post(client, text="again")
    assert first["channel"] == "C1" and abs(float(first["ts"]) - time.time()) < 60
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    stored = fake.messages("C1")
    assert [m["text"] for m in stored] == ["hi", "again"]
    assert stored[0]["blocks"] == blocks and stored[0]["edit_count"] == 0
    assert [m["ts"] for m in fake.delivered_posts()] == [first["ts"], second["ts"]]


def test_form_encoded_json_fields_are_decoded(fake, client):
    blocks = [{"type": "divider"}]
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)})
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == blocks
    assert fake.messages("C1")[0]["blocks"] == blocks


def test_history_newest_first_with_metadata_and_threads(fake, client):
    fake.scopes |= {"channels:history"}  # not in the manifest
    meta = {"event_type": "aurum_post", "event_payload": {"key": "k1"}}
    parent = post(client, text="one", metadata=meta)
    post(client, text="reply", thread_ts=parent["ts"])
    post(client, text="two")
    history = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert [m["text"] for m in history] == ["two", "one"]
    assert history[1]["metadata"] == meta and history[1]["reply_count"] == 1
    plain = client.conversations_history(channel="C1")["messages"]
    assert "metadata" not in plain[1]
    assert [m["text"] for m in client.conversations_history(channel="C1", limit=1)["messages"]] == ["two"]
    older = client.conversations_history(channel="C1", latest=history[0]["ts"])["messages"]
    assert [m["text"] for m in older] == ["one"]
    replies = client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["one", "reply"]
    assert fake.messages("C1")[1]["thread_ts"] == parent["ts"]


def test_update_delete_and_ephemeral(fake, client):
    ts = post(client)["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="edited")
    assert updated["message"]["text"] == "edited"
    assert fake.messages("C1")[0]["edit_count"] == 1
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts="1.000000", text="x")
    assert err.value.response["error"] == "message_not_found"
    assert client.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]
    assert fake.ephemeral[0]["user"] == "U1"
    client.chat_delete(channel="C1", ts=ts)
    assert fake.messages("C1") == [] and fake.delivered_posts() == []


def test_conversations_open_is_stable_and_user_posts_go_to_dm(fake, client):
    first = client.conversations_open(users="U42")
    again = client.conversations_open(users=["U42"])
    assert first["channel"]["id"] == again["channel"]["id"] == "DU42"
    assert post(client, channel="U42")["channel"] == "DU42"
    assert len(fake.messages("DU42")) == 1


def test_conversations_members_paginates(fake, client):
    members = [f"U{i}" for i in range(5)]
    fake.set_members("C1", members)
    pages = [page["members"] for page in client.conversations_members(channel="C1", limit=2)]
    assert pages == [members[0:2], members[2:4], members[4:]]
    assert client.conversations_members(channel="C1")["response_metadata"]["next_cursor"] == ""


def test_usergroup_members(fake, client):
    fake.set_members("S0ENG", ["U1", "U2"])
    assert client.usergroups_users_list(usergroup="S0ENG")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NONE")


def test_users_info_defaults_and_overrides(fake, client):
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1" and user["is_admin"] is False and user["tz"] == "Europe/Berlin"
    fake.set_user("U2", is_admin=True, tz="America/New_York")
    admin = client.users_info(user="U2")["user"]
    assert admin["is_admin"] is True and admin["tz"] == "America/New_York" and admin["tz_offset"] < 0


# ----- files and views ----------------------------------------------------------


def test_files_upload_v2_stores_bytes_and_share(fake, client):
    data = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    resp = client.files_upload_v2(content=data, filename="report.bin", title="Report",
                                  channel="C1", thread_ts="1700000000.000100", initial_comment="here")  # any ts
    file_id = resp["file"]["id"]
    stored = fake.files[file_id]
    assert stored.bytes == data and stored.title == "Report" and stored.filename == "report.bin"
    assert stored.channel == "C1" and stored.thread_ts == "1700000000.000100"
    assert fake.calls_to("files.completeUploadExternal")[0].params["files"][0]["id"] == file_id
    assert fake.messages("C1")[0]["files"][0]["id"] == file_id


def test_upload_url_accepts_multipart(fake, client):
    got = client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert got["upload_url"] == f"{fake.root_url}/upload/{got['file_id']}"
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nabc\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(got["upload_url"], data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"OK - 3"
    assert fake.files[got["file_id"]].bytes == b"abc"


def test_complete_upload_of_unknown_or_not_uploaded_file_fails(client):
    reserved = client.files_getUploadURLExternal(filename="a.txt", length=3)["file_id"]
    for file_id in ("F404", reserved):
        with pytest.raises(SlackApiError) as err:
            client.files_completeUploadExternal(files=[{"id": file_id, "title": "x"}], channel_id="C1")
        assert err.value.response["error"] == "file_not_found"


def test_views_are_recorded(fake, client):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    opened = client.views_open(trigger_id=fake.trigger_id(), view=view)["view"]
    assert opened["id"].startswith("V") and opened["type"] == "modal"
    assert client.views_update(view_id=opened["id"], view=view)["view"]["id"] == opened["id"]
    assert client.views_push(trigger_id=fake.trigger_id(), view=view)["view"]["id"] != opened["id"]
    client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert [v["method"] for v in fake.views] == ["views.open", "views.update", "views.push", "views.publish"]
    assert fake.views[3]["user_id"] == "U1"


# ----- recording helpers ----------------------------------------------------------


def test_wait_for_sees_calls_from_other_threads(fake, client):
    worker = threading.Thread(target=lambda: [post(client, text=str(i)) for i in range(3)])
    worker.start()
    calls = fake.wait_for("chat.postMessage", count=3, timeout=5)
    worker.join()
    assert [c.params["text"] for c in calls] == ["0", "1", "2"]
    assert fake.wait_for(lambda c: c.params.get("text") == "1")[0].method == "chat.postMessage"


def test_wait_for_timeout_dumps_calls(fake, client):
    post(client, text="only")
    with pytest.raises(AssertionError, match="chat.postMessage"):
        fake.wait_for("chat.update", timeout=0.05)


def test_reset_clears_state(fake, client):
    post(client)
    fake.fail_next("chat.postMessage")
    fake.reset()
    assert fake.calls == [] and fake.messages("C1") == []
    post(client)
    assert len(fake.delivered_posts()) == 1


def test_concurrent_posts_get_unique_ts(fake, client):
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(post(client)["ts"])) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 20 and len(fake.messages("C1")) == 20


# ----- fault injection ------------------------------------------------------------


def test_429_without_retry_has_no_side_effect(fake, client):
    fake.fail_next("chat.postMessage", 1, status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        post(client)
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    assert fake.messages("C1") == [] and fake.calls_to("chat.postMessage")[0].failed
    post(client)
    assert len(fake.delivered_posts()) == 1


def test_429_is_retried_by_rate_limit_handler(fake, sleeps):
    client = WebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=[RateLimitErrorRetryHandler(2)])
    fake.fail_next("chat.postMessage", 2, retry_after=3)
    assert post(client)["ok"]
    assert [c.failed for c in fake.calls_to("chat.postMessage")] == [True, True, False]
    assert len(sleeps) == 2 and all(3 <= s < 4 for s in sleeps)
    assert len(fake.delivered_posts()) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(fake, sleeps, status):
    client = WebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=[ServerErrorRetryHandler(1)])
    fake.fail_next("chat.postMessage", 1, status=status)
    assert post(client)["ok"]
    assert [c.fault for c in fake.calls_to("chat.postMessage")] == [str(status), None]
    fake.fail_next("chat.postMessage", 2, status=status)
    with pytest.raises(SlackApiError) as err:
        post(client)
    assert err.value.response.status_code == status
    assert len(fake.delivered_posts()) == 1


def test_drop_closes_connection_and_connection_handler_retries(fake, client, sleeps):
    fake.fail_next("chat.postMessage", mode="drop")
    with pytest.raises(ConnectionError):
        post(client)
    assert fake.messages("C1") == []
    handlers = [ConnectionErrorRetryHandler()]
    retrying = WebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=handlers)
    fake.fail_next("chat.postMessage", mode="drop")
    assert post(retrying)["ok"] and len(fake.delivered_posts()) == 1


def test_timeout_holds_answer(fake):
    client = WebClient(token="xoxb-t", base_url=fake.base_url, timeout=0.2, retry_handlers=[])
    fake.fail_next("chat.postMessage", mode="timeout", delay=0.6)
    with pytest.raises(TimeoutError):
        post(client)
    assert fake.calls_to("chat.postMessage")[0].fault == "timeout" and fake.messages("C1") == []


def test_timeout_with_effect_delivers_late(fake):
    client = WebClient(token="xoxb-t", base_url=fake.base_url, timeout=0.2, retry_handlers=[])
    fake.fail_next("chat.postMessage", mode="timeout", delay=0.4, effect=True)
    with pytest.raises(TimeoutError):
        post(client)
    fake.wait_for("chat.postMessage", timeout=5)
    assert len(fake.delivered_posts()) == 1


def test_fail_after_effect_stores_but_client_sees_failure(fake, client):
    fake.fail_after_effect_next("chat.postMessage")
    with pytest.raises(ConnectionError):
        post(client, text="exactly once?")
    assert [m["text"] for m in fake.delivered_posts()] == ["exactly once?"]
    assert fake.calls_to("chat.postMessage", failed=True)[0].fault == "after_effect"


def test_unknown_fault_mode_is_rejected(fake):
    with pytest.raises(ValueError):
        fake.fail_next("chat.postMessage", mode="explode")
    with pytest.raises(ValueError):
        fake.chaos(0.5, modes=("404",))


def test_chaos_is_seeded_and_can_be_turned_off(client, fake):
    def run(seed):
        with FakeSlack() as other:
            other.add_channel("c1", "C1")
            c = WebClient(token="xoxb-t", base_url=other.base_url, retry_handlers=[])
            other.chaos(0.5, seed=seed, modes=("429", "500"))
            for _ in range(20):
                with contextlib.suppress(SlackApiError):
                    post(c)
            return [call.failed for call in other.calls], len(other.delivered_posts())

    faults, delivered = run(7)
    assert faults == run(7)[0] and 0 < sum(faults) < 20 and delivered == 20 - sum(faults)
    fake.chaos(1.0, seed=1, modes=("drop",), methods=["chat.update"])
    assert post(client)["ok"]
    fake.chaos(0)
    assert client.chat_update(channel="C1", ts=fake.messages("C1")[0]["ts"], text="x")["ok"]


def test_rate_limit_per_channel(fake, client):
    fake.rate_limit("chat.postMessage", per_channel_per_second=1.0)
    post(client, channel="C1")
    with pytest.raises(SlackApiError) as err:
        post(client, channel="C1")
    assert err.value.response.status_code == 429 and err.value.response.headers["Retry-After"] == "1"
    post(client, channel="C2")
    assert [m["channel"] for m in fake.delivered_posts()] == ["C1", "C2"]
    assert fake.calls_to("chat.postMessage", failed=True)[0].fault == "rate_limit"
    fake.rate_limit("chat.postMessage", None)
    post(client, channel="C1")


# ----- strictness: Slack's Web API description ---------------------------------------


def test_every_method_of_the_spec_and_the_supplement_is_known():
    from tests.fakes import slack_spec

    known = slack_spec.methods()
    assert {"chat.postMessage", "views.open", "oauth.v2.access"} <= set(known)
    assert known["files.getUploadURLExternal"].scopes == ("files:write",)  # the supplement
    assert "metadata" in known["chat.postMessage"].params and "channel" in known["chat.postMessage"].params
    assert known["views.open"].scopes == () and "chat:write" in known["chat.postMessage"].scopes
    assert {"channels:history", "groups:history"} <= set(known["conversations.history"].scopes)


def test_an_argument_slack_does_not_know_is_ignored_but_recorded(fake, client):
    assert client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "colour": "red"})["ok"]
    assert fake.take_violations() == ["chat.postMessage: arguments Slack does not know (ignored): colour"]
    assert client.chat_postMessage(channel="C1", text="y", metadata={"event_type": "e", "event_payload": {}})["ok"]
    assert fake.violations == []  # metadata: newer than the spec, in the supplement


def test_a_method_slack_has_but_the_fake_does_not_is_a_violation(fake, client):
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("reminders.list")
    assert fake.take_violations() == ["reminders.list: a Slack method this fake does not implement yet"]


def test_what_slack_sdk_sends_for_the_methods_the_bot_uses_is_all_known(fake, client):
    """The real slack_sdk, with the arguments the bot passes (bot/slack_delivery.py, commands/): no violation."""
    team_client = WebClient(token="xoxb-test", base_url=fake.base_url, team_id="T0001", retry_handlers=[])
    ts = post(team_client, thread_ts=None, unfurl_links=False, unfurl_media=False,
              metadata={"event_type": "aurum_outbox", "event_payload": {"key": "k"}})["ts"]
    team_client.chat_update(channel="C1", ts=ts, text="v2", blocks=[{"type": "divider"}])
    team_client.chat_postEphemeral(channel="C1", user="U1", text="psst", thread_ts=ts)
    team_client.files_upload_v2(channel="C1", content=b"png", filename="c.png", title="chart", alt_txt="a chart",
                                initial_comment="here", thread_ts=ts)
    team_client.conversations_members(channel="C1", limit=200)
    team_client.conversations_list(types="public_channel,private_channel", limit=200, exclude_archived=True)
    team_client.conversations_open(users="U9")
    fake.set_usergroup("S1", ["U1"])
    team_client.usergroups_users_list(usergroup="S1")
    team_client.users_info(user="U1")
    team_client.auth_test()
    team_client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    team_client.views_open(trigger_id=fake.trigger_id(), view={"type": "modal", "title": {"type": "plain_text",
                                                                                             "text": "T"}})
    assert fake.violations == []


# ----- scopes ---------------------------------------------------------------------------


def test_the_bot_has_the_manifests_scopes_and_nothing_else(fake, client):
    from tests.fakes.slack_spec import manifest_bot_scopes

    assert fake.scopes == manifest_bot_scopes() and "chat:write" in fake.scopes
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel="C1")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "channels:history"
    assert err.value.response["provided"] == ",".join(sorted(fake.scopes))
    assert [v.split(":", 1)[0] for v in fake.take_violations()] == ["conversations.history"]


def test_needed_scope_follows_the_conversation_type(fake, client):
    secret = fake.add_channel("secret", private=True)
    with pytest.raises(SlackApiError) as err:
        client.conversations_replies(channel=secret, ts="1.0")
    assert err.value.response["needed"] == "groups:history"
    fake.take_violations()


def test_scopes_can_be_overridden():
    with FakeSlack(scopes=["commands"]) as narrow:
        narrow.add_channel("c1", "C1")
        c = WebClient(token="xoxb-t", base_url=narrow.base_url, retry_handlers=[])
        with pytest.raises(SlackApiError) as err:
            post(c)
        assert err.value.response["error"] == "missing_scope" and err.value.response["needed"] == "chat:write"
        assert c.auth_test()["ok"]  # needs no scope
        assert len(narrow.take_violations()) == 1


def test_only_bot_tokens(fake):
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxp-user", base_url=fake.base_url).auth_test()


def test_oauth_token_carries_the_granted_scopes(fake):
    answer = WebClient(base_url=fake.base_url).oauth_v2_access(client_id="1.2", client_secret="s",
                                                              code=fake.oauth_code("T0AAA"))
    assert set(answer["scope"].split(",")) == fake.scopes and answer["access_token"].startswith("xoxb-T0AAA-")


# ----- conversations and membership ----------------------------------------------------


def test_unknown_channel_is_not_found(fake, client):
    for channel in ("C404", "#nowhere", "G404"):
        with pytest.raises(SlackApiError, match="channel_not_found"):
            post(client, channel=channel)
    assert fake.delivered_posts() == [] and fake.violations == []


def test_preset_channels_of_the_test_helpers_exist(fake, client):
    assert post(client, channel="C0CHAN")["channel"] == "C0CHAN"
    assert fake.channel_id("#general") == "C0CHAN" and fake.conversation("C0CHAN").bot_member


def test_public_channel_the_bot_is_not_in_takes_posts_with_chat_write_public_only(fake, client):
    lobby = fake.add_channel("lobby", bot_member=False)
    assert post(client, channel=lobby)["ok"]  # the manifest grants chat:write.public
    with FakeSlack(scopes=fake.scopes - {"chat:write.public"}) as strict:
        strict.add_channel("lobby", "C0LOBBY", bot_member=False)
        c = WebClient(token="xoxb-t", base_url=strict.base_url, retry_handlers=[])
        with pytest.raises(SlackApiError, match="not_in_channel"):
            post(c, channel="C0LOBBY")


def test_private_channel_or_dm_the_bot_is_not_in_is_not_found(fake, client):
    private = fake.add_channel("hush", private=True, bot_member=False)
    their_dm = fake.add_dm("U5")
    for channel in (private, their_dm):
        with pytest.raises(SlackApiError, match="channel_not_found"):
            post(client, channel=channel)
        with pytest.raises(SlackApiError, match="channel_not_found"):
            client.chat_postEphemeral(channel=channel, user="U5", text="x")
    assert [c["id"] for c in client.conversations_list(types="private_channel")["channels"]] == []
    fake.set_bot_member(private)
    assert post(client, channel=private)["ok"]
    assert [c["id"] for c in client.conversations_list(types="private_channel")["channels"]] == [private]


def test_ephemeral_needs_the_bot_in_the_conversation_even_a_public_one(fake, client):
    lobby = fake.add_channel("lobby", bot_member=False)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postEphemeral(channel=lobby, user="U1", text="x")
    assert fake.ephemeral == []


def test_conversations_open_creates_the_bots_dm(fake, client):
    assert fake.conversation("DU7") is None
    dm = client.conversations_open(users="U7")["channel"]["id"]
    assert dm == "DU7" and fake.conversation(dm).bot_member and fake.conversation(dm).im_user == "U7"
    assert client.chat_postEphemeral(channel=dm, user="U7", text="hi")["ok"]


def test_file_shared_only_where_the_bot_is(fake, client):
    hush = fake.add_channel("hush", private=True, bot_member=False)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.files_upload_v2(channel=hush, content=b"x", filename="a.txt")


# ----- trigger ids -----------------------------------------------------------------------


MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}


def test_trigger_ids_open_one_view_each(fake, client):
    trigger = fake.trigger_id()
    assert trigger in fake.issued_trigger_ids
    assert client.views_open(trigger_id=trigger, view=MODAL)["ok"]
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_push(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        client.views_open(trigger_id="12345.98765.abcd2358fdea", view=MODAL)
    assert [v.split(": ")[1] for v in fake.take_violations()] == [
        "exchanged_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"]
    assert len(fake.views) == 1


def test_trigger_ids_expire_after_3_seconds(fake, client):
    late, in_time = fake.trigger_id(), fake.trigger_id()
    fake.advance(2.9)
    assert client.views_open(trigger_id=in_time, view=MODAL)["ok"]
    fake.advance(0.2)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_open(trigger_id=late, view=MODAL)
    assert fake.take_violations() == ["views.open: expired_trigger_id"]


# ----- response_url ------------------------------------------------------------------------


def test_response_url_is_served_and_recorded(fake):
    from slack_sdk.webhook import WebhookClient

    url = fake.response_url("C1", "U1")
    assert url.startswith(f"{fake.root_url}/respond/")
    answer = WebhookClient(url).send(text="only you", response_type="ephemeral")
    assert answer.status_code == 200 and json.loads(answer.body) == {"ok": True}
    WebhookClient(url).send(text="all", blocks=[{"type": "divider"}], response_type="in_channel",
                            replace_original=True)
    first, second = fake.responses
    assert first["url_id"] == url.rsplit("/", 1)[1] and first["channel"] == "C1" and first["user"] == "U1"
    assert first["text"] == "only you" and first["response_type"] == "ephemeral"
    assert second["blocks"] == [{"type": "divider"}] and second["replace_original"] is True
    assert [c.method for c in fake.calls] == ["response_url", "response_url"]


def test_response_url_takes_five_posts(fake):
    from slack_sdk.webhook import WebhookClient

    hook = WebhookClient(fake.response_url("C1", "U1"))
    assert [hook.send(text=str(i)).status_code for i in range(5)] == [200] * 5
    used = hook.send(text="sixth")
    assert used.status_code == 404 and used.body == "used_url"
    assert len(fake.responses) == 5 and "used_url" in fake.take_violations()[0]


def test_response_url_expires_after_30_minutes(fake):
    from slack_sdk.webhook import WebhookClient

    early = fake.response_url("C1", "U1")
    fake.advance(29 * 60)
    assert WebhookClient(early).send(text="still").status_code == 200
    fresh = fake.response_url("C1", "U1")
    fake.advance(2 * 60)
    expired = WebhookClient(early).send(text="late")
    assert expired.status_code == 404 and expired.body == "expired_url"
    assert WebhookClient(fresh).send(text="fresh").status_code == 200
    fake.expire_response_urls()
    assert WebhookClient(fresh).send(text="now late").body == "expired_url"
    assert len(fake.take_violations()) == 2


def test_response_url_unknown_fields_and_faults(fake):
    from slack_sdk.webhook import WebhookClient

    hook = WebhookClient(fake.response_url("C1", "U1"))
    assert hook.send_dict({"text": "x", "channel": "C2"}).status_code == 200
    assert fake.take_violations() == [f"response_url {hook.url.rsplit('/', 1)[1]}: fields Slack does not know "
                                      "(ignored): channel"]
    fake.fail_next("response_url", status=500)
    assert hook.send(text="y").status_code == 500
    assert fake.calls_to("response_url", failed=True)[0].fault == "500" and len(fake.responses) == 1


# ----- rate-limit tiers --------------------------------------------------------------------


def test_tier_2_allows_a_burst_of_one_minute_then_429_with_retry_after(fake, client):
    for _ in range(20):  # conversations.list: Tier 2, 20+ per minute
        client.conversations_list()
    with pytest.raises(SlackApiError) as err:
        client.conversations_list()
    assert err.value.response.status_code == 429 and err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "3"  # one call per 3 s refills
    assert fake.calls_to("conversations.list", failed=True)[0].fault == "rate_limit"
    assert client.users_info(user="U1")["ok"]  # per method
    fake.advance(3)
    assert client.conversations_list()["ok"]


def test_tiers_are_per_workspace_and_can_be_turned_off(fake):
    tokens = [WebClient(base_url=fake.base_url).oauth_v2_access(client_id="1", client_secret="s",
                                                               code=fake.oauth_code(t))["access_token"]
              for t in ("T0AAA", "T0BBB")]
    for token in tokens:
        c = WebClient(token=token, base_url=fake.base_url, retry_handlers=[])
        assert all(c.conversations_list()["ok"] for _ in range(20))
    with FakeSlack(tiers=False) as free:
        c = WebClient(token="xoxb-t", base_url=free.base_url, retry_handlers=[])
        assert all(c.conversations_list()["ok"] for _ in range(30))


# ----- SlackSender ----------------------------------------------------------------------------


def test_slack_sender_uses_the_fakes_trigger_ids_and_response_urls(fake):
    from urllib.parse import parse_qs

    from tests.support import SlackSender

    sender = SlackSender("http://127.0.0.1:9", fake=fake)
    body = parse_qs(sender.command_body("/kpi", "x", user="U1", channel="C0CHAN"))
    assert body["trigger_id"][0] in fake.issued_trigger_ids
    assert body["response_url"][0].startswith(f"{fake.root_url}/respond/")
    plain = parse_qs(SlackSender("http://127.0.0.1:9").command_body("/kpi"))
    assert plain["trigger_id"][0].startswith("trigger.") and "hooks.slack.invalid" in plain["response_url"][0]
    sender.close()
