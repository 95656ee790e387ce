"""HTTP on loopback for the benchmark: a client with cookies, and closed- and open-loop load.

The load generator is this compact asyncio one rather than a package: locust and wrk run closed
loops (a slow server slows the clients, hiding its queue), wrk2 and vegeta are in neither PyPI
nor Debian here, and an HTTP client in the pinned locks for a benchmark alone was not worth it.
The open loop schedules request i at start + i / rate and times it from that moment, so a
saturated server shows its queueing in the latencies (no coordinated omission).

gunicorn's sync workers close every connection after the response, so each request is one TCP
connection (`Connection: close`), as a browser's requests to such a server are.
"""

from __future__ import annotations

import asyncio
import html
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

TIMEOUT = 60.0
#: Requests in flight at most in an open loop (the rest wait, their clock already running).
MAX_IN_FLIGHT = 512


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes
    #: Seconds from sending to the last byte.
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


async def fetch(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> Response:
    """One request to 127.0.0.1:port over its own connection."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
    seconds = time.perf_counter() - started
    head_bytes, _, content = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    found: dict[str, str] = {}
    cookies = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        found[name] = value
    if found.get("transfer-encoding", "").lower() == "chunked":
        content = _dechunk(content)
    return Response(status, found, cookies, content, seconds)


_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'([\w:-]+)="([^"]*)"')


_FORM = re.compile(r"<form\b.*?</form>", re.I | re.S)


def hidden_fields(page: str, form_marker: str = "") -> dict[str, str]:
    """The hidden inputs (CSRF token, one-time key ...) of the first form whose text holds
    `form_marker` (of the whole page without one); empty when no form holds it."""
    if form_marker:
        page = next((f for f in _FORM.findall(page) if form_marker in f), "")
    fields = {}
    for tag in _INPUT.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type") == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


class Client:
    """A browser, as far as the server can tell: cookies kept, same-origin POSTs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _keep(self, response: Response) -> None:
        for raw in response.cookies:
            pair, *attrs = raw.split(";")
            name, _, value = pair.strip().partition("=")
            gone = any(a.strip().lower() in ("max-age=0",) for a in attrs) or (
                any(a.strip().lower().startswith("expires=thu, 01 jan 1970") for a in attrs)
            )
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": "ja,en;q=0.8", "User-Agent": "vendorrisk-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        response = await fetch(self.port, "GET", path, self._headers(headers))
        self._keep(response)
        return response

    async def post(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> Response:
        extra = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
            "Origin": f"http://127.0.0.1:{self.port}",
        } | (headers or {})
        body = urlencode(form).encode()
        response = await fetch(self.port, "POST", path, self._headers(extra), body)
        self._keep(response)
        return response


# -- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by the nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(int(round(q * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def summary_ms(seconds: list[float]) -> dict[str, float | None]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median": statistics.median(ms) if ms else None,
        "p95": percentile(ms, 0.95),
        "p99": percentile(ms, 0.99),
        "max": max(ms) if ms else None,
    }


#: A request of a load run: given its index, the response (or an exception raised).
Request = Callable[[int], Awaitable[Response]]


@dataclass
class LoadResult:
    offered: float | None
    seconds: float
    ok: int
    errors: int
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int | str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "offered_rps": self.offered,
            "achieved_rps": round(self.ok / self.seconds, 1) if self.seconds else None,
            "ok": self.ok,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)},
            "latency_ms": summary_ms(self.latencies),
        }


def _tally(result: LoadResult, outcome: Response | BaseException, good: Callable) -> None:
    if isinstance(outcome, BaseException):
        result.errors += 1
        key: int | str = type(outcome).__name__
    else:
        key = outcome.status
        if good(outcome):
            result.ok += 1
        else:
            result.errors += 1
    result.statuses[key] = result.statuses.get(key, 0) + 1


async def open_loop(
    request: Request, rate: float, seconds: float, good: Callable[[Response], bool]
) -> LoadResult:
    """rate × seconds requests, request i scheduled at start + i / rate whatever came before;
    each latency runs from its scheduled start. Achieved rate: good answers over the time from
    the start to the last answer."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    total = int(rate * seconds)
    start = loop.time() + 0.05
    result = LoadResult(rate, 0.0, 0, 0)
    last_end = start

    async def one(i: int, at: float) -> None:
        nonlocal last_end
        async with gate:
            try:
                outcome: Response | BaseException = await request(i)
            except (OSError, TimeoutError, ValueError, IndexError) as exc:
                outcome = exc
        end = loop.time()
        last_end = max(last_end, end)
        result.latencies.append(end - at)
        _tally(result, outcome, good)

    tasks = []
    for i in range(total):
        at = start + i / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, at)))
    await asyncio.gather(*tasks)
    result.seconds = max(last_end - start, seconds)
    return result


async def closed_loop(
    request: Request, clients: int, seconds: float, good: Callable[[Response], bool]
) -> LoadResult:
    """`clients` loops, each sending its next request when the last is answered, for `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    result = LoadResult(None, 0.0, 0, 0)
    counter = iter(range(10**9))
    started = loop.time()

    async def client() -> None:
        while loop.time() < deadline:
            sent = loop.time()
            try:
                outcome: Response | BaseException = await request(next(counter))
            except (OSError, TimeoutError, ValueError, IndexError) as exc:
                outcome = exc
            result.latencies.append(loop.time() - sent)
            _tally(result, outcome, good)

    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = loop.time() - started
    return result
