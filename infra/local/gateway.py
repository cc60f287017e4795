"""API Gateway's REST API in front of the built ApiFunction, by its rules, for the local stack.

What a request meets on AWS, emulated here from template.yaml: the routes are the ApiFunction's
`Api` events (anything else is API Gateway's 403 "Missing Authentication Token"), the request
becomes a Lambda proxy event (resource, path parameters, multi-value headers and query, a
request context with the stage), a body whose type is one of the API's `BinaryMediaTypes` is
handed over base64-encoded, and the function's answer is turned back into HTTP: a base64 body is
decoded only when a binary media type matches (otherwise the browser gets the base64 text, as on
AWS), a failed invocation or a malformed answer is a 502, a payload over Lambda's limits is a
413 or a 502. Served under a stage path (`/Prod/...`) as an execute-api URL is, or at the root.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

REQUEST_LIMIT = 10 * 1024 * 1024          # API Gateway's payload limit
RESPONSE_LIMIT = 6 * 1024 * 1024          # Lambda's synchronous response limit


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    pattern: re.Pattern

    @classmethod
    def of(cls, method: str, resource: str) -> Route:
        regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", resource))
        return cls(method.upper(), resource, re.compile(f"^{regex}$"))


@dataclass
class Response:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _json(status: int, payload: dict) -> Response:
    return Response(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                    json.dumps(payload).encode())


def _media_matches(media_type: str, patterns: list[str]) -> bool:
    media_type = media_type.split(";", 1)[0].strip().lower()
    return bool(media_type) and any(fnmatch.fnmatch(media_type, p.lower()) for p in patterns)


class RestApi:
    def __init__(self, routes: list[Route], binary_media_types: list[str],
                 invoke: Callable[[dict], tuple[object, str | None]], stage: str = "Prod",
                 base_path: str = "") -> None:
        """`invoke(event) -> (result, error)`: the ApiFunction. `base_path`: "" serves at the root
        (make run), "/Prod" as an execute-api URL does."""
        self.routes, self.binary_media_types, self.invoke = routes, binary_media_types, invoke
        self.stage, self.base_path = stage, base_path.rstrip("/")

    @classmethod
    def from_template(cls, template: dict, invoke, function_id: str = "ApiFunction", base_path: str = "",
                      stage: str = "Prod") -> RestApi:
        api_globals = template.get("Globals", {}).get("Api", {})
        routes, binary_types = [], list(api_globals.get("BinaryMediaTypes", []))
        # The REST API that integrates the function: its OpenAPI paths are the routes API Gateway has.
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::Serverless::Api":
                continue
            props = resource["Properties"]
            for path, methods in (props.get("DefinitionBody") or {}).get("paths", {}).items():
                for method, op in methods.items():
                    uri = json.dumps((op or {}).get("x-amazon-apigateway-integration", {}).get("uri"))
                    if f"${{{function_id}.Arn}}" in uri or f'"{function_id}"' in uri:
                        routes.append(Route.of(method, path))
            binary_types += props.get("BinaryMediaTypes", [])
        binary = [t.replace("~1", "/") for t in binary_types]
        # The most specific first: a literal segment wins over a {parameter}, as in API Gateway.
        routes.sort(key=lambda r: (r.resource.count("{"), -len(r.resource)))
        return cls(routes, binary, invoke, stage=stage, base_path=base_path)

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            match = route.pattern.match(path)
            if match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str = "127.0.0.1") -> Response:
        """One HTTP request (`target`: path and query as sent) to one HTTP response."""
        url = urlsplit(target)
        path = url.path
        if self.base_path:
            if not (path == self.base_path or path.startswith(self.base_path + "/")):
                return _json(403, {"message": "Forbidden"})
            path = path[len(self.base_path):] or "/"
        if len(body) > REQUEST_LIMIT:
            return _json(413, {"message": "Request Too Long"})
        found = self._route(method.upper(), path)
        if found is None:
            return _json(403, {"message": "Missing Authentication Token"})
        route, path_parameters = found
        event = self._event(method.upper(), path, url.query, route, path_parameters, headers, body, source_ip)
        result, error = self.invoke(event)
        if error or not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            return _json(502, {"message": "Internal server error"})
        if len(json.dumps(result)) > RESPONSE_LIMIT:
            return _json(502, {"message": "Internal server error"})   # Lambda refuses the payload
        return self._response(result, headers)

    def _event(self, method: str, path: str, query: str, route: Route, path_parameters: dict[str, str],
               headers: list[tuple[str, str]], body: bytes, source_ip: str) -> dict:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            single[name] = value
            multi.setdefault(name, []).append(value)
        query_single: dict[str, str] = {}
        query_multi: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            query_single[name] = value
            query_multi.setdefault(name, []).append(value)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        binary = bool(body) and _media_matches(content_type, self.binary_media_types)
        if not body:
            payload = None
        elif binary:
            payload = base64.b64encode(body).decode()
        else:
            payload = body.decode("utf-8", "replace")
        host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
        now = time.time()
        return {
            "resource": route.resource, "path": path, "httpMethod": method,
            "headers": single or None, "multiValueHeaders": multi or None,
            "queryStringParameters": query_single or None, "multiValueQueryStringParameters": query_multi or None,
            "pathParameters": path_parameters or None, "stageVariables": None,
            "requestContext": {
                "resourcePath": route.resource, "httpMethod": method, "path": f"{self.base_path}{path}",
                "stage": self.stage, "requestId": str(uuid.uuid4()), "accountId": "123456789012",
                "apiId": "local", "protocol": "HTTP/1.1", "domainName": host,
                "requestTimeEpoch": int(now * 1000),
                "identity": {"sourceIp": source_ip,
                             "userAgent": next((v for k, v in headers if k.lower() == "user-agent"), None)},
            },
            "body": payload, "isBase64Encoded": binary,
        }

    def _response(self, result: dict, request_headers: list[tuple[str, str]]) -> Response:
        out: list[tuple[str, str]] = []
        for name, value in (result.get("headers") or {}).items():
            out.append((name, str(value)))
        for name, values in (result.get("multiValueHeaders") or {}).items():
            out.extend((name, str(v)) for v in values)
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            accept = next((v for k, v in request_headers if k.lower() == "accept"), "")
            content_type = next((v for k, v in out if k.lower() == "content-type"), "")
            accepted = [a for a in (p.strip() for p in accept.split(",")) if a]
            if _media_matches(content_type, self.binary_media_types) or any(
                    _media_matches(a, self.binary_media_types) for a in accepted):
                data = base64.b64decode(body)
            else:
                data = body.encode()      # API Gateway hands the base64 text on as it is
        else:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        out.append(("x-amzn-RequestId", str(uuid.uuid4())))
        return Response(int(result["statusCode"]), out, data)
