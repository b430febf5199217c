"""API Gateway → Lambda: HTTP API (payload 2.0) and REST API (1.0) proxy integrations.

`cloud.http_api({...})` creates the API in moto's API Gateway too, so `list_apis` shows it, and
returns a client that turns a request into AWS's proxy event, invokes synchronously and maps the
handler's answer to HTTP exactly as API Gateway does (a malformed answer is a 502, a failing
handler a 500 on HTTP APIs and a 502 on REST APIs).
"""

from __future__ import annotations

import base64
import json as jsonlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import ConfigurationError

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
REST_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


@dataclass
class HttpResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            raise ValueError(f"response body is not JSON: {self.text[:80]!r}") from None

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {self.text[:60]!r}>"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    function: Any  # runtime FunctionRuntime
    key: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.key == "$default":
            return {}
        if self.method not in ("ANY", method):
            return None
        want, have = self.pattern.strip("/").split("/"), path.strip("/").split("/")
        params: dict[str, str] = {}
        for i, part in enumerate(want):
            if part.startswith("{") and part.endswith("+}"):
                if i >= len(have):
                    return None
                params[part[1:-2]] = "/".join(have[i:])
                return params
            if i >= len(have):
                return None
            if part.startswith("{") and part.endswith("}"):
                if not have[i]:
                    return None
                params[part[1:-1]] = have[i]
            elif part != have[i]:
                return None
        return params if len(want) == len(have) else None

    def specificity(self) -> tuple[int, int, int]:
        parts = self.pattern.strip("/").split("/")
        literal = sum(1 for p in parts if not p.startswith("{"))
        greedy = sum(1 for p in parts if p.endswith("+}"))
        return (self.key != "$default", literal - 10 * greedy, self.method != "ANY")


def parse_routes(routes: dict[str, Any], resolve) -> list[Route]:
    parsed = []
    for key, target in routes.items():
        if key == "$default":
            parsed.append(Route("ANY", "/", resolve(key, target), key))
            continue
        method, _, pattern = key.partition(" ")
        if method.upper() not in METHODS or not pattern.startswith("/"):
            raise ConfigurationError(
                f"route {key!r} is not 'METHOD /path', e.g. 'GET /orders/{{id}}' (methods: {', '.join(sorted(METHODS))})"
            )
        parsed.append(Route(method.upper(), pattern, resolve(key, target), f"{method.upper()} {pattern}"))
    return sorted(parsed, key=Route.specificity, reverse=True)


def _single_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for name, value in pairs:
        joined.setdefault(name, []).append(value)
    return {k: ",".join(v) for k, v in joined.items()}


class HttpApi:
    """A client for one API: `api.request("POST", "/orders", json={...})`."""

    def __init__(self, cloud, name: str, api_id: str, routes: list[Route], payload_version: str,
                 stage: str) -> None:
        self._cloud, self.name, self.id = cloud, name, api_id
        self.routes, self.payload_version, self.stage = routes, payload_version, stage
        self.url = f"https://{api_id}.execute-api.{cloud.region}.amazonaws.com"

    def request(self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None,
                query: dict[str, Any] | None = None, body: str | bytes | None = None) -> HttpResponse:
        method = method.upper()
        split = urlsplit(path)
        path = split.path or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        for name, value in (query or {}).items():
            values = value if isinstance(value, list | tuple) else [value]
            pairs.extend((name, str(v)) for v in values)
        headers = {k.lower(): str(v) for k, v in (headers or {}).items()}
        headers.setdefault("host", urlsplit(self.url).hostname or "")
        headers.setdefault("user-agent", "localcloud")
        if json is not None:
            body = jsonlib.dumps(json)
            headers.setdefault("content-type", "application/json")
        route, params = self._route(method, path)
        if route is None:
            return HttpResponse(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        is_binary = isinstance(body, bytes)
        text = base64.b64encode(body).decode() if is_binary else body
        build = self._event_v2 if self.payload_version == "2.0" else self._event_v1
        event = build(method, path, route, params, pairs, headers, text, is_binary)
        # by name, as the integration's ARN does on AWS: a redefined function's new code answers
        function = self._cloud.runtime.require(route.function.name)
        result = self._cloud.runtime.invoke(function, jsonlib.dumps(event), source=f"api:{self.name}")
        if not result.ok:
            if self.payload_version == "2.0":
                return HttpResponse(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
            return HttpResponse(502, {"content-type": "application/json"}, b'{"message": "Internal server error"}')
        return self._response(jsonlib.loads(result.payload or "null"))

    # convenience verbs a student reaches for
    def get(self, path: str, **kwargs) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def _route(self, method: str, path: str):
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None, {}

    def _context(self, method: str, path: str, route: Route) -> dict[str, Any]:
        now = time.time()
        return {
            "accountId": self._cloud.account_id,
            "apiId": self.id,
            "domainName": urlsplit(self.url).hostname,
            "domainPrefix": self.id,
            "requestId": uuid.uuid4().hex[:20],
            "stage": self.stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }

    def _event_v2(self, method, path, route, params, pairs, headers, body, is_binary) -> dict[str, Any]:
        context = self._context(method, path, route)
        context.update({
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("user-agent", "")},
            "routeKey": route.key,
        })
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": path,
            "rawQueryString": urlencode(pairs),
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": is_binary,
        }
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        if pairs:
            event["queryStringParameters"] = _single_values(pairs)
        if params:
            event["pathParameters"] = params
        if body is not None:
            event["body"] = body
        return event

    def _event_v1(self, method, path, route, params, pairs, headers, body, is_binary) -> dict[str, Any]:
        context = self._context(method, path, route)
        context.update({
            "resourceId": uuid.uuid4().hex[:6], "resourcePath": route.pattern, "httpMethod": method,
            "path": f"/{self.stage}{path}", "protocol": "HTTP/1.1",
            "requestTime": context.pop("time"), "requestTimeEpoch": context.pop("timeEpoch"),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
        })
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        return {
            "resource": route.pattern,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
            "multiValueQueryStringParameters": multi or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": is_binary,
        }

    def _response(self, result: Any) -> HttpResponse:
        """API Gateway's mapping of a proxy integration's answer (a bad one is a 502)."""
        bad = HttpResponse(502, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
        if self.payload_version == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
            return HttpResponse(200, {"content-type": "application/json"}, jsonlib.dumps(result).encode())
        if not isinstance(result, dict) or "statusCode" not in result:
            return bad
        if self.payload_version == "1.0" and set(result) - REST_RESPONSE_KEYS:
            return bad  # REST APIs refuse any other key: "Malformed Lambda proxy response"
        try:
            status = int(result["statusCode"])
        except (TypeError, ValueError):
            return bad
        body = result.get("body", "")
        if body is None:
            body = ""
        if not isinstance(body, str):
            return bad
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ",".join(map(str, values))
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        cookies = list(result.get("cookies") or [])
        return HttpResponse(status, headers, raw, cookies)
