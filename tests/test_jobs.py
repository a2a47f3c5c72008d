"""Scheduled jobs: APScheduler is only the clock; a firing is stored once per (job, fire time)
however many clocks run, and a worker runs it once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from hub.plugins.context import Context
from hub.plugins.jobs import Clock, JobRegistrar, fire
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from tests.conftest import base_env


class Ticker:
    """A plugin with a job every second, counting its runs."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.fired = threading.Event()

    from hub import hookimpl as _hookimpl

    @_hookimpl
    def scheduled(self, register: JobRegistrar) -> None:
        register("tick", self.tick, minutes=1 / 60, description="every second")

    def tick(self, ctx: Context) -> None:
        self.runs.append(ctx.event_id)


def test_the_same_firing_from_two_clocks_runs_once(make_hub, recorder) -> None:
    hub = make_hub(("recorder", recorder))
    job = hub.jobs()["recorder.tick"]
    at = datetime(2026, 3, 28, 15, 5, tzinfo=UTC)
    assert fire(hub, job, at).created is True
    assert fire(hub, job, at).created is False  # the second clock's record is the same row
    run_due(hub)
    assert [ctx.event_id for ctx in recorder.job_runs] == ["recorder.tick@2026-03-28T15:05:00Z"]
    assert recorder.job_runs[0].settings.label == "recorder"


def test_two_running_clocks_record_each_fire_time_once(make_hub, config) -> None:
    ticker = Ticker()
    hub_a = make_hub(("ticker", ticker))
    hub_b = make_hub(("ticker", ticker), cfg=config)  # a second process on the same database
    clocks = [Clock(hub_a), Clock(hub_b)]
    for clock in clocks:
        clock.start()
    try:
        def recorded() -> int:
            with hub_a.engine.connect() as conn:
                return conn.exec_driver_sql(
                    "SELECT count(*) FROM hub_event WHERE type = 'job'").scalar()
        while recorded() < 3:
            hub_a.wake.wait(5)
            hub_a.wake.clear()
    finally:
        for clock in clocks:
            clock.stop()
    run_due(hub_a)
    with hub_a.engine.connect() as conn:
        keys = [k for (k,) in conn.exec_driver_sql(
            "SELECT key FROM hub_event WHERE type = 'job'")]
    assert len(keys) == len(set(keys)) >= 3
    assert sorted(ticker.runs) == sorted(keys)  # each firing ran exactly once


def test_interval_jobs_fire_on_a_grid_every_clock_agrees_on(make_hub, recorder) -> None:
    hub = make_hub(("recorder", recorder))
    job = hub.jobs()["recorder.tick"]
    nxt = job.next_run(datetime(2026, 3, 28, 15, 7, 31))
    assert nxt == datetime(2026, 3, 28, 15, 10)
    assert job.next_run(nxt + timedelta(seconds=1)) == datetime(2026, 3, 28, 15, 15)


def test_jobs_follow_settings_and_the_switch(make_hub, recorder) -> None:
    hub = make_hub(("recorder", recorder))
    hub.states.update_settings("recorder", {"label": "renamed"})
    assert "renamed" in hub.jobs()["recorder.tick"].description
    hub.states.set_enabled("recorder", False)
    assert hub.jobs() == {}


def test_jobs_list_and_run_from_the_command_line(tmp_path) -> None:
    env = {**base_env(tmp_path), "HUB_PLUGINS": "recorder=tests.plugins.cli_recorder"}
    runner = CliRunner()
    cli = build_cli()
    listed = runner.invoke(cli, ["jobs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "recorder.tick" in listed.output and "every 5 min" in listed.output
    ran = runner.invoke(cli, ["jobs", "run", "recorder.tick"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "recorder.tick: done" in ran.output
    missing = runner.invoke(cli, ["jobs", "run", "recorder.nope"], env=env)
    assert missing.exit_code == 1 and "no job 'recorder.nope'" in missing.output


def test_fire_soon_coalesces_only_with_a_firing_not_yet_started(make_hub, recorder) -> None:
    from hub.plugins.jobs import fire_soon

    hub = make_hub(("recorder", recorder))
    job = hub.jobs()["recorder.tick"]
    assert fire_soon(hub, job) is True
    assert fire_soon(hub, job) is False  # one is already waiting: a burst costs one run
    run_due(hub)
    assert len(recorder.job_runs) == 1
    assert fire_soon(hub, job) is True  # after a run began, news gets a run of its own
    run_due(hub)
    assert len(recorder.job_runs) == 2


def test_long_work_shows_its_progress_while_it_runs(make_hub) -> None:
    """A job reports how far it has come; the operator sees it on the running delivery."""
    from hub import hookimpl
    from hub.plugins.jobs import fire_soon

    seen: list[str | None] = []

    class Importer:
        @hookimpl
        def scheduled(self, register: JobRegistrar) -> None:
            register("import", self.run, hours=24)

        def run(self, ctx: Context) -> None:
            for n in range(1, 4):
                ctx._progress_at = -1e9  # as if a second had passed between steps
                ctx.progress(n, 3, "customers imported")
                with hub.engine.connect() as conn:
                    seen.append(conn.exec_driver_sql(
                        "SELECT result FROM hub_delivery WHERE status = 'running'").scalar())

    hub = make_hub(("importer", Importer()))
    fire_soon(hub, hub.jobs()["importer.import"])
    run_due(hub)
    assert seen == ["customers imported: 1/3", "customers imported: 2/3",
                    "customers imported: 3/3"]
