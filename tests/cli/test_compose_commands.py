"""The compose file's project services run commands the CLI knows (a test of the CLI's command
table against deploy's compose file; the other deployment checks are in tests/deploy)."""

from __future__ import annotations

import inspect

from cli import admin
from cli.main import TABLE, command_names
from tests.deploy.test_deployment_files import compose


def test_project_services_run_commands_the_cli_knows() -> None:
    known = set(command_names())
    services = compose()["services"]
    project = [name for name, service in services.items() if service.get("build") == "." and "entrypoint" not in service]
    assert project, "no service is built from the project's image"
    for name in project:
        assert services[name]["command"][0] in known, name


def test_the_namespace_job_runs_the_same_set_up_as_the_cluster() -> None:
    """Issue 21.7: compose's one-shot `namespace` job (`claims namespace --apply`) and `claims
    cluster up` set the namespace up through the one client function, client/namespace.set_up."""
    services = compose()["services"]
    assert services["namespace"]["command"] == ["namespace", "--apply"]
    assert TABLE["namespace"] is admin.NAMESPACE
    assert "set_up(" in inspect.getsource(admin.cmd_namespace)
