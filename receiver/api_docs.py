"""A readable page of the OpenAPI document at `GET /api/docs`: plain HTML rendered here,
with no script, stylesheet or font from anywhere (the issue's "if it costs no external
assets"); the document itself stays the contract."""

from __future__ import annotations

from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def render_docs(document: dict[str, Any]) -> str:
    """The whole page: every operation with its parameters and answers."""
    info = document["info"]
    sections = [
        _operation(method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(info['title'])}</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;"
        "padding:0 1em}code{background:#f3f3f3;padding:0 .2em}td,th{text-align:left;"
        "vertical-align:top;padding:.1em .6em}h2{font-size:1.05em;margin-top:2em}</style>"
        f"</head><body><h1>{escape(info['title'])}</h1><p>{escape(info['description'])}</p>"
        '<p>The machine-readable contract: <a href="/api/openapi.json">/api/openapi.json</a>'
        f" (OpenAPI {escape(document['openapi'])}).</p>{''.join(sections)}</body></html>"
    )


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    parameters = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{escape(p.get('description', ''))}</td></tr>"
        for p in operation.get("parameters", [])
    )
    answers = "".join(
        f"<tr><td><code>{escape(code)}</code></td><td>{escape(answer['description'])}</td></tr>"
        for code, answer in sorted(operation["responses"].items())
    )
    public = " (no token)" if operation.get("security") == [] else ""
    return (
        f"<h2><code>{method.upper()} {escape(path)}</code>{public}</h2>"
        f"<p>{escape(operation.get('summary', ''))}</p>"
        + (
            f"<table><tr><th>parameter</th><th>in</th><th></th></tr>{parameters}</table>"
            if parameters
            else ""
        )
        + f"<table><tr><th>status</th><th>answer</th></tr>{answers}</table>"
    )
