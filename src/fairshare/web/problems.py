"""One JSON error shape for every failure of the API.

``{"error": {"status": 422, "code": "not_a_number", "message": "...", "problems": [{...}, ...]}}``:
``code`` is the first problem's code (or an HTTP reason such as ``forbidden``); ``problems`` lists every
problem with the same fields as the command line's errors (file, row, column, value, rule, hint).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairshare.errors import FairshareError, Problem

__all__ = ["ApiError", "ErrorBody", "error_responses", "install_handlers", "problem_dict"]

_REASONS = {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_input",
            429: "too_many_requests"}  # fmt: skip


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    problems: list[dict[str, Any]] = []


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error the API returns as it is: status, code and message (and optional problems)."""

    def __init__(self, status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems or []


def problem_dict(p: Problem) -> dict[str, Any]:
    keys = ("code", "message", "file", "line", "col", "row", "column", "value", "rule", "hint")
    return {k: getattr(p, k) for k in keys if getattr(p, k, None) is not None}


#: the errors every signed-in API call can answer, as the OpenAPI schema describes them
_USUAL = {401: "not signed in", 403: "forbidden", 404: "not found", 422: "invalid input"}


def error_responses(*extra: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """An API route's documented errors (its OpenAPI ``responses``), each in the one error shape: the
    usual four, with ``extra`` (status, description) added or rewording them."""
    texts = _USUAL | dict(extra)
    return {code: {"model": ErrorBody, "description": texts[code]} for code in sorted(texts)}


def _body(status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None) -> JSONResponse:
    detail = ErrorDetail(status=status, code=code, message=message, problems=problems or [])
    return JSONResponse(ErrorBody(error=detail).model_dump(), status_code=status)


def _busy() -> JSONResponse:
    """A write that waited too long for its turn (the server is overloaded, not the request wrong)."""
    r = _body(503, "database_busy", "the database is busy with other changes: try again in a moment")
    r.headers["Retry-After"] = "5"
    return r


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_r: Request, exc: ApiError) -> JSONResponse:
        return _body(exc.status, exc.code, exc.message, exc.problems)

    @app.exception_handler(FairshareError)
    async def _fs(_r: Request, exc: FairshareError) -> JSONResponse:
        probs = [problem_dict(p) for p in exc.problems]
        first = probs[0] if probs else {"code": "invalid_input", "message": str(exc)}
        return _body(422, str(first["code"]), str(first["message"]), probs)

    @app.exception_handler(RequestValidationError)
    async def _validation(_r: Request, exc: RequestValidationError) -> JSONResponse:
        probs = [
            {
                "code": "invalid_value",
                "message": str(e.get("msg", "")),
                "column": ".".join(str(x) for x in e.get("loc", ())),
            }
            for e in exc.errors()
        ]
        return _body(422, "invalid_value", probs[0]["message"] if probs else "invalid request", probs)

    @app.exception_handler(SQLAlchemyTimeout)
    async def _pool(_r: Request, _exc: SQLAlchemyTimeout) -> JSONResponse:
        return _busy()

    @app.exception_handler(OperationalError)
    async def _locked(_r: Request, exc: OperationalError) -> JSONResponse:
        if "database is locked" not in str(exc.orig):
            raise exc
        return _busy()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _body(exc.status_code, _REASONS.get(exc.status_code, "error"), str(exc.detail))
