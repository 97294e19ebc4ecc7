"""Send many signed Slack interaction requests at once, from a separate process, like Slack's own servers would.

Run as `python -m tests.loadgen URL SECRET PAYLOADS.json THREADS`; prints one JSON line per request
(`status`, `seconds`, `body`). A separate process keeps the load generator's own CPU work from competing for
the bot's interpreter lock, which real Slack traffic would not; requests are signed before the threads start
and sent with the standard library's lean http.client, so `seconds` is mostly the server's time.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier


def send_all(url: str, secret: str, payloads: list[dict], threads: int) -> list[dict]:
    target = urlsplit(url.rstrip("/") + "/slack/events")
    verifier = SignatureVerifier(secret)
    timestamp = str(int(time.time()))
    bodies = [urlencode({"payload": json.dumps(p)}) for p in payloads]
    headers = [{"X-Slack-Request-Timestamp": timestamp, "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body)} for body in bodies]
    gate = threading.Barrier(min(threads, len(bodies)))
    local = threading.local()

    def send(i: int) -> dict:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            local.conn.connect()
        if i < threads:
            gate.wait(60)  # the first wave leaves together
        started = time.perf_counter()
        local.conn.request("POST", target.path, body=bodies[i].encode(), headers=headers[i])
        response = local.conn.getresponse()
        body = response.read().decode()
        return {"status": response.status, "seconds": time.perf_counter() - started, "body": body}

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send, range(len(bodies))))


def main() -> None:
    url, secret, path, threads = sys.argv[1:5]
    with open(path, encoding="utf-8") as handle:
        payloads = json.load(handle)
    for result in send_all(url, secret, payloads, int(threads)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
