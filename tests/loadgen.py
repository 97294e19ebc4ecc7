"""Send many signed Slack interaction requests at once, from a separate process, like Slack's own servers would.

Run as `python -m tests.loadgen URL SECRET PAYLOADS.json THREADS`; prints one JSON line per request
(`status`, `seconds`, `body`). A separate process keeps the load generator's own CPU work (500 threads
signing and sending) from competing for the bot's interpreter lock, which real Slack traffic would not.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import httpx

from tests.support import SlackSender


def send_all(url: str, secret: str, payloads: list[dict], threads: int) -> list[dict]:
    sender = SlackSender(url, secret=secret)
    sender.http.close()
    sender.http = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=threads + 10,
                                                               max_keepalive_connections=threads + 10))
    bodies = [urlencode({"payload": json.dumps(p)}) for p in payloads]
    gate = threading.Barrier(min(threads, len(bodies)))

    def send(i: int) -> dict:
        headers = sender.headers(bodies[i])
        if i < threads:
            gate.wait(30)  # the first wave leaves together
        started = time.perf_counter()
        response = sender.send(bodies[i], headers=headers)
        elapsed = time.perf_counter() - started
        return {"status": response.status_code, "seconds": elapsed, "body": response.text}

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(send, range(len(bodies))))
    finally:
        sender.close()


def main() -> None:
    url, secret, path, threads = sys.argv[1:5]
    with open(path, encoding="utf-8") as handle:
        payloads = json.load(handle)
    for result in send_all(url, secret, payloads, int(threads)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
