"""Requests a proxy forwarded, for `GET /proxies/{name}/requests` (an extension of the API).

While counting is on for a proxy, each HTTP request it forwards to the upstream (not those an
`http_error` toxic answered itself) is kept as method, path (the target without its query)
and headers. Counts are made at query time, grouped by method, path and the value of one
header chosen then (`Idempotency-Key`, `X-Request-ID`, ...), so one recording answers any
such question. At most `limit` requests are kept; later ones are only counted in `total`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RequestLog", "RequestRecord"]

DEFAULT_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str
    headers: tuple[tuple[bytes, bytes], ...]  # names lowercased, as received

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None


@dataclass
class RequestLog:
    enabled: bool = False
    limit: int = DEFAULT_LIMIT
    total: int = 0
    records: list[RequestRecord] = field(default_factory=list)

    def record(self, method: str, target: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.total += 1
        if len(self.records) < self.limit:
            path = target.partition("?")[0]
            kept = tuple((name.lower(), value) for name, value in headers)
            self.records.append(RequestRecord(method, path, kept))

    def clear(self) -> None:
        self.total = 0
        self.records.clear()

    def counts(self, header: str | None) -> dict[str, Any]:
        """The API's answer: requests by method, path and `header`'s value (null: absent)."""
        name = header.lower().encode("latin-1") if header else None
        grouped: Counter[tuple[str, str, str | None]] = Counter(
            (r.method, r.path, r.header(name) if name is not None else None) for r in self.records
        )
        return {
            "enabled": self.enabled,
            "header": header or "",
            "total": self.total,
            "kept": len(self.records),
            "counts": [
                {"method": method, "path": path, "value": value, "count": count}
                for (method, path, value), count in sorted(
                    grouped.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
                )
            ],
        }
