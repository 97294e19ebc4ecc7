"""Pacing of Web API calls to Slack's published limits, so that the bot waits its turn instead of collecting 429s.

Slack limits each method per workspace by tier (https://api.slack.com/apis/rate-limits): Tier 1 about 1 call a
minute, Tier 2 20+, Tier 3 50+, Tier 4 100+, each allowing short bursts; and chat.postMessage to about one message
a second per channel, also with short bursts. Each is a token bucket here: full at the start (the burst), refilled
at the tier's rate. A 429 that still comes is honoured by the queue (Retry-After).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# The methods the bot calls, by tier (each method's page on api.slack.com names its tier).
TIERS: dict[str, int] = {
    "auth.test": 4, "chat.postEphemeral": 4, "chat.update": 3, "conversations.list": 2, "conversations.members": 4,
    "conversations.open": 3, "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
    "usergroups.users.list": 2, "users.info": 4, "views.publish": 4, "views.open": 4,
}
PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
CHANNEL_RATE = 1.0  # messages a second into one channel (chat.postMessage's special limit)
CHANNEL_BURST = 4  # messages into one channel at once before pacing starts


@dataclass
class _Bucket:
    tokens: float
    at: float


class Pacing:
    """Token buckets per (workspace, method) and per (workspace, channel); thread-safe, one per process. `clock`
    (seconds): the clock the queue schedules by, so that a message put back for its turn is due when its turn comes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._lock = threading.Lock()

    def method_wait(self, team_id: str, method: str) -> float:
        """Seconds until `method` may be called in this workspace; 0.0 takes the call's turn now."""
        tier = TIERS.get(method)
        if tier is None:
            return 0.0
        per_minute = PER_MINUTE[tier]
        return self._take(("method", team_id, method), per_minute / 60.0, per_minute)

    def channel_wait(self, team_id: str, channel: str) -> float:
        """Seconds until a message may go into this channel; 0.0 takes its turn now."""
        return self._take(("channel", team_id, channel), CHANNEL_RATE, CHANNEL_BURST)

    def _take(self, key: tuple[str, ...], rate: float, burst: float) -> float:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=burst, at=now)
            bucket.tokens = min(burst, bucket.tokens + max(0.0, now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate
