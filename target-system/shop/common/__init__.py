"""What every shop service shares. One module per idea:

- `settings`: `ServiceSettings`, every env knob of the README with its default; subclass it
  to set a service's `port` and `database_url` defaults.
- `db`: `make_engine(url)`, `session_scope(engine, *, write=False)`, `make_sessionmaker`,
  `ping(engine)`, `delete_all_rows(engine, metadata)`, `UtcDateTime` (column type, aware
  UTC on every backend), `utc_now()`.
  Each service owns its `DeclarativeBase` and creates its tables at start-up.
- `context`: the request id contextvar (`get_request_id`, `REQUEST_ID_HEADER`).
- `logging`: `configure_logging(service=, level=)`, JSON lines with `request_id`, `service`.
- `metrics`: the metrics contract's prometheus-client objects in one `REGISTRY`;
  `render_latest()`, `sample_value(name, labels)`.
- `errors`: `ErrorBody`, `error_body(...)`, `ApiError`, `NotFound`, `Conflict`,
  `DependencyUnavailable(dependency, reason, *, outcome_unknown, status_code=None, outcome=None)`.
- `conventions`: the HTTP conventions every service keeps, framework-free: `error_code`,
  `allow_header` (HEAD wherever GET is), `record_request` (metrics + access log),
  `readiness` (the `/ready` body).
- `flask_app`: those conventions for a Flask app (`install_conventions(app, service=, engine=)`,
  `json_body`, `validated`, `json_response`); FastAPI services never import it.
- `app`: `create_app(service=, settings=, engine=, dependencies=, lifespan_hooks=)`, lifespan
  hook helpers `run_at_startup(fn)`, `periodic_task(name, fn, interval=)`,
  `error_responses({404: "why"})` for OpenAPI, and
  `register_test_reset(app, settings=, reset=)` (SHOP_TEST_MODE only).
- `breaker`: `CircuitBreaker`, `BreakerState`, `BreakerOpen`, `CallPermit`.
- `retry`: `RetryPolicy`, `RetryBudget`, `is_retryable_request`, `build_retrying` (tenacity).
- `bulkhead`: `Bulkhead(max_concurrent)`, `BulkheadFull`.
- `client`: `ResilientClient`, the one way a service calls another.
- `validation`: bounded integers that fit a database column: `DbId`, `NonNegativeDbInt`,
  `PositiveDbInt` for path/query parameters; strict `JsonId`, `JsonNonNegativeInt`,
  `JsonPositiveInt` for JSON bodies.
- `runner`: `run_service(app_path, settings)` for `python -m shop.<service>`.
"""
