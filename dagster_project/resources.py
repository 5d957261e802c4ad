"""Resources shared by every stage: where the data lives and how to call dbt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, DbtProjectPreparer
from pydantic import PrivateAttr

from dagster_project.settings import (
    AS_OF_ENV,
    DBT_PROJECT_DIR,
    PUBLICATION_PERIOD_ENV,
    DataPaths,
    check_settings,
    default_data_root,
)
from dagster_project.warehouse import (
    acquire_writer_lock,
    catch_up_receipts,
    check_warehouse,
    release_writer_lock,
    say,
)


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv's), so PATH need not include the venv."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


class VenvDbtPreparer(DbtProjectPreparer):
    """Re-parses the dbt project when `dagster dev` loads the code location, with the venv's dbt:
    dagster-dbt's own preparer looks for `dbt` on PATH, which `.venv/bin/dagster dev` started by
    hand does not have, and the code location would load as failed."""

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        resource = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
        resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed on load; `make run` and `make test` parse first.
VenvDbtPreparer().prepare_if_dev(dbt_project)


class PlatformSettings(dg.ConfigurableResource):
    """Where the data lives and which table to build. Each setting defaults to its environment
    variable: data root $DIGITAL_PROGRESS_DATA (else ./data); publication month (YYYY-MM)
    $DIGITAL_PROGRESS_PERIOD (else the latest month with accepted data); the moment to rebuild
    as of (YYYY-MM-DD[ HH:MM:SS]) $DIGITAL_PROGRESS_AS_OF (else now)."""

    data_root: str = ""
    publication_period: str = ""
    as_of: str = ""
    _holds_lock: bool = PrivateAttr(default=False)

    @property
    def paths(self) -> DataPaths:
        root = (
            Path(self.data_root).expanduser().resolve() if self.data_root else default_data_root()
        )
        return DataPaths(root)

    @property
    def effective_publication_period(self) -> str:
        return self.publication_period or os.environ.get(PUBLICATION_PERIOD_ENV, "")

    @property
    def effective_as_of(self) -> str:
        return self.as_of or os.environ.get(AS_OF_ENV, "")

    def check(self) -> None:
        """Raise SettingsError naming the variable and value when a setting dbt needs is invalid."""
        check_settings(self.effective_publication_period, self.effective_as_of)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Dagster calls this when the run initialises its resources, before any step's body, so
        # a bad month fails the run before `submissions` moves a file or writes the warehouse.
        self.check()
        run = context.dagster_run
        # A sensor's tick has no run, and Dagster re-opens a finished run's resources to read
        # its outputs: neither writes, so neither waits for the lock.
        if run is None or run.is_finished:
            return
        # One writer at a time: a second run waits here, saying so, for the whole first run.
        announce = context.log.warning if context.log else say
        acquire_writer_lock(self.paths.root, announce)
        try:
            check_warehouse(self.paths, announce)
        except BaseException:
            release_writer_lock(self.paths.root)  # teardown is not called when setup fails
            raise
        self._holds_lock = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if not self._holds_lock:
            return
        try:
            catch_up_receipts(self.paths)  # the archive learns what this run recorded
        finally:
            release_writer_lock(self.paths.root)
            self._holds_lock = False

    def environment(self) -> dict[str, str]:
        """Where the API tokens come from; kept in one place so tests can see what is read."""
        return dict(os.environ)

    def dbt_vars(self) -> dict[str, str]:
        """The dbt vars that point dbt at this data root's warehouse, checked first."""
        self.check()
        return {
            "warehouse": str(self.paths.warehouse),
            "publication_period": self.effective_publication_period,
            "as_of": self.effective_as_of,
        }


def build_resources(settings: PlatformSettings | None = None) -> dict[str, object]:
    return {
        "settings": settings or PlatformSettings(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
