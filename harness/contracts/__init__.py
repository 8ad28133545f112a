"""Consumer-driven contracts: verify providers against Pact files, and the broker workflow.

    from harness.contracts import run_contracts

    result = run_contracts(topology=Path("system.toml"),
                           pact_dir=Path("pacts"), out_dir=Path("runs/contracts"))
    result.passed, result.figures, result.report_path

Providers run for real (started by the harness runtime, or already running), each in its
test mode (`test_env` convention); provider states and message pacts go through the routes
each provider declares (`provider_states`, `messages` conventions; see `VerifyOptions`). With a
Pact Broker (`PACT_BROKER_URL`): `publish_pacts`, `BrokerVerification`, `can_i_deploy`,
`record_deployment`, `record_release`.

The consumer side (writing pacts from pytest) is `harness.contracts.consumer`, a pytest
plugin a consumer test suite turns on in its conftest (not imported here: it needs pytest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.contracts.broker import (
        BrokerConfig,
        BrokerError,
        BrokerVerification,
        DeployVerdict,
        EnvironmentRecord,
        PublishReceipt,
        VersionInfo,
        can_i_deploy,
        publish_pacts,
        record_deployment,
        record_release,
        version_from_git,
    )
    from harness.contracts.coverage import EdgeCoverage, edge_coverage, pacts_without_edge
    from harness.contracts.defaults import DEFAULT_PACT_DIR
    from harness.contracts.pactfiles import (
        Interaction,
        PactFile,
        PactFileError,
        load_pacts,
        read_pact,
    )
    from harness.contracts.results import ContractsResult, InteractionResult, ProviderResult
    from harness.contracts.run import in_test_mode, options_for, run_contracts
    from harness.contracts.verify import VerifyOptions, missing_route_message, verify_provider

__all__ = [
    "DEFAULT_PACT_DIR",
    "BrokerConfig",
    "BrokerError",
    "BrokerVerification",
    "ContractsResult",
    "DeployVerdict",
    "EdgeCoverage",
    "EnvironmentRecord",
    "Interaction",
    "InteractionResult",
    "PactFile",
    "PactFileError",
    "ProviderResult",
    "PublishReceipt",
    "VerifyOptions",
    "VersionInfo",
    "can_i_deploy",
    "edge_coverage",
    "in_test_mode",
    "load_pacts",
    "missing_route_message",
    "options_for",
    "pacts_without_edge",
    "publish_pacts",
    "read_pact",
    "record_deployment",
    "record_release",
    "run_contracts",
    "verify_provider",
    "version_from_git",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.contracts.broker": (
            "BrokerConfig",
            "BrokerError",
            "BrokerVerification",
            "DeployVerdict",
            "EnvironmentRecord",
            "PublishReceipt",
            "VersionInfo",
            "can_i_deploy",
            "publish_pacts",
            "record_deployment",
            "record_release",
            "version_from_git",
        ),
        "harness.contracts.coverage": ("EdgeCoverage", "edge_coverage", "pacts_without_edge"),
        "harness.contracts.pactfiles": (
            "Interaction",
            "PactFile",
            "PactFileError",
            "load_pacts",
            "read_pact",
        ),
        "harness.contracts.results": ("ContractsResult", "InteractionResult", "ProviderResult"),
        "harness.contracts.defaults": ("DEFAULT_PACT_DIR",),
        "harness.contracts.run": (
            "in_test_mode",
            "options_for",
            "run_contracts",
        ),
        "harness.contracts.verify": ("VerifyOptions", "missing_route_message", "verify_provider"),
    },
)
