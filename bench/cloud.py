"""Streamlit Community Cloud rehearsed on this machine: a fresh venv installed by uv, the server under a 2.7 GB
memory cap with Cloud's marker set, and a real browser: cold start, sample → train → predict, then two sessions
training `default` on about 10k rows at once with a third queued behind them.

What Cloud does and what stands for it here:
- It installs `requirements.txt` with uv into a new environment: `uv venv` + `uv pip install -r` with an empty
  uv cache (a new container has none), timed, and the venv's size on disk.
- Its container has about 2.7 GB of memory and no swap: a child memory cgroup (v1 `memory.limit_in_bytes` and
  `memory.memsw.limit_in_bytes`, or v2 `memory.max` and `memory.swap.max`) that the server joins before
  streamlit starts, so the server and everything it starts share the limit. The peak is the cgroup's own
  (`memory.max_usage_in_bytes` / `memory.peak`, page cache included); a kill shows as `oom_kill` there.
- It runs the container with HOSTNAME "streamlit", which turns public mode on (core/safety.py) by itself.
- Every visitor comes through its proxy with their own X-Forwarded-For, so each browser session here sends a
  different one (addresses from the documentation range; only the header carries them, nothing is sent there).

    .venv/bin/python bench/cloud.py --venv /tmp/cloudvenv     # creates it with uv (or reuses it), full rehearsal
    .venv/bin/python bench/cloud.py --quick                   # this venv, the sample, one session (`make bench`)

Needs root (or a writable memory cgroup) for the cap; without one it runs uncapped and says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

if __package__ in (None, ""):  # run as `python bench/cloud.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DATASETS_DIR, MEGABYTE, REPO_ROOT, PeakMemory, base_parser, command_line, report  # noqa: E402

CLOUD_MEMORY_GB = 2.7  # Community Cloud's free tier; read as 2.7e9 bytes, the stricter of GB and GiB
CLOUD_PYTHON = "3.12"
CLOUD_ENVIRONMENT = {"HOSTNAME": "streamlit"}  # the container marker core.safety._on_community_cloud reads
# Settings that would decide for themselves what Cloud's markers should decide; the rehearsal unsets them.
OVERRIDES = ("STUDIO_PUBLIC_MODE", "STUDIO_MAX_CONCURRENT_JOBS")
VISITOR_ADDRESSES = ("198.51.100.11", "198.51.100.12", "198.51.100.13")  # RFC 5737 documentation range
PYTHONS_TO_CHECK = ("3.10", "3.11", "3.12", "3.13", "3.14")
TEN_THOUSAND_ROWS = DATASETS_DIR / "airline_tweets" / "train.csv"
CGROUP_ROOT = Path("/sys/fs/cgroup")
FIRST_PAGE_TIMEOUT_MS = 180_000
TRAIN_TIMEOUT_S = 20 * 60
PREDICT_TEXT = "A warm, funny and beautifully acted film."


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="the venv that serves: reused if it exists, else made there by uv")
    parser.add_argument("--python", default=CLOUD_PYTHON, help=f"Python for a new venv (default {CLOUD_PYTHON})")
    parser.add_argument("--uv", default=shutil.which("uv"), help="the uv executable (default: uv on PATH)")
    parser.add_argument("--memory-gb", type=float, default=CLOUD_MEMORY_GB, help="memory cap in 1e9 bytes")
    parser.add_argument("--data", type=Path, default=TEN_THOUSAND_ROWS, help="file the concurrent sessions upload")
    arguments = parser.parse_args()
    from tests.e2e.support import CHROMIUM

    if not CHROMIUM.exists():
        print(f"Skipping: {CHROMIUM} is missing (apt-get install chromium); the rehearsal needs a real browser.")
        return
    for name in OVERRIDES:
        os.environ.pop(name, None)
    python, install = _serving_python(arguments)
    tables = {"install": [install]}
    if not arguments.quick and arguments.uv:
        tables["requirements.txt on each Python (Linux x86_64)"] = wheel_pythons(arguments.uv, PYTHONS_TO_CHECK)
    data = None if arguments.quick else arguments.data
    if data is not None and not data.is_file():
        print(f"{data} is missing (../shared/datasets): the sample session only, no concurrent ones.")
        data = None
    tables.update(rehearse(python, int(arguments.memory_gb * 1e9), data, evict=python != Path(sys.executable)))
    report("Community Cloud rehearsal", command_line(), tables, arguments.json)


def _serving_python(arguments: Any) -> tuple[Path, dict[str, Any]]:
    """The interpreter that serves and how its venv came to be: this one in quick mode, else `--venv`.

    Raises:
        SystemExit: a new venv is needed and no uv was found.
    """
    if arguments.quick or arguments.venv is None and arguments.uv is None:
        if not arguments.quick:
            print("No uv found and no --venv given: serving from this venv (pip install uv for the real install).")
        return Path(sys.executable), {"venv": "this one (not installed by uv)",
                                      "python": _python_version(sys.executable)}
    venv = arguments.venv or Path(tempfile.mkdtemp(prefix="cloud-venv-")) / "venv"
    python = venv / "bin" / "python"
    if python.exists():
        return python, {"venv": f"{venv} (reused)", "python": _python_version(python), "size MB": dir_megabytes(venv)}
    if arguments.uv is None:
        sys.exit("uv is not installed: `pip install uv` (in a throwaway venv) or pass --uv PATH.")
    return python, install_with_uv(arguments.uv, arguments.python, venv)


def install_with_uv(uv: str, python: str, venv: Path) -> dict[str, Any]:
    """`uv venv` then `uv pip install -r requirements.txt`, as Cloud installs an app, with a cold uv cache."""
    cache = Path(tempfile.mkdtemp(prefix="cloud-uv-cache-"))
    environment = {**os.environ, "UV_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    subprocess.run([uv, "venv", "--python", python, str(venv)], env=environment, check=True)
    created = time.perf_counter()
    subprocess.run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), "-r",
                    str(REPO_ROOT / "requirements.txt")], env=environment, check=True)
    installed = time.perf_counter()
    listed = subprocess.run([uv, "pip", "list", "--python", str(venv / "bin" / "python"), "--format", "json"],
                            env=environment, check=True, capture_output=True, text=True).stdout
    facts = {
        "venv": f"{venv} (new)", "python": _python_version(venv / "bin" / "python"),
        "uv": subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.strip(),
        "venv s": round(created - started, 1), "install s": round(installed - created, 1),
        "packages": len(json.loads(listed)), "size MB": dir_megabytes(venv),
    }
    shutil.rmtree(cache, ignore_errors=True)
    return facts


def wheel_pythons(uv: str, versions: tuple[str, ...]) -> list[dict[str, Any]]:
    """Whether requirements.txt resolves for each Python on Linux x86_64 (Cloud's platform), and why not in
    uv's own words: tensorflow-cpu's wheels decide the newest Python, the other pins (streamlit first) the oldest."""
    rows = []
    for version in versions:
        resolved = subprocess.run(
            [uv, "pip", "compile", str(REPO_ROOT / "requirements.txt"), "--python-version", version,
             "--python-platform", "x86_64-manylinux_2_28", "--quiet", "--no-header"],
            capture_output=True, text=True,
        )  # fmt: skip
        reason = next((line.strip().removeprefix("cause: ") for line in resolved.stderr.splitlines()
                       if "Because" in line), "")
        rows.append({"python": version, "installs": "yes" if resolved.returncode == 0 else "no", "why not": reason})
    return rows


def dir_megabytes(folder: Path) -> int:
    """Bytes of the regular files under `folder` (links not followed), in megabytes."""
    total = sum((Path(root) / name).lstat().st_size for root, _, files in os.walk(folder) for name in files)
    return round(total / MEGABYTE)


def evict_from_page_cache(folder: Path) -> None:
    """Drops the clean cached pages of every file under `folder` (those no process maps stay out too).

    A cgroup is charged for a file page by the group that first reads it in. The venv was just written from
    outside the cap, so without this the server's TensorFlow libraries would be charged elsewhere and the cap
    would see less than a Cloud container, which reads its own libraries in.
    """
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def _python_version(python: str | Path) -> str:
    return subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


# --- the memory cap -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CgroupLayout:
    """Where one cgroup version keeps a memory controller's limit, swap limit, peak and kill counters."""

    version: int
    limit: str
    swap: str  # v1: memory and swap together (set to the limit); v2: swap alone (set to 0)
    peak: str
    kills: str  # "key value" lines holding oom_kill
    limit_hits: str  # v1 a bare count; v2 the "max" line of the events file
    anonymous: str  # the memory.stat line of anonymous memory (heaps, tensors)
    file: str  # the memory.stat line of page cache (libraries, files read)


V1 = CgroupLayout(1, "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max_usage_in_bytes",
                  "memory.oom_control", "memory.failcnt", "rss", "cache")
V2 = CgroupLayout(2, "memory.max", "memory.swap.max", "memory.peak", "memory.events", "memory.events", "anon", "file")


def find_memory_controller(root: Path = CGROUP_ROOT) -> tuple[Path, CgroupLayout] | None:
    """The writable cgroup a child with a memory limit can be made in, and its layout; None where there is none."""
    v1 = root / "memory"
    if (v1 / V1.limit).is_file() and os.access(v1, os.W_OK):
        return v1, V1
    try:
        delegated = "memory" in (root / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    return (root, V2) if delegated and os.access(root, os.W_OK) else None


def parse_counters(text: str) -> dict[str, int]:
    """`memory.oom_control` / `memory.events` ("oom_kill 0" lines) as a dict; a bare number becomes "count"."""
    counters = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 1 and parts[0].isdigit():
            counters["count"] = int(parts[0])
        elif len(parts) == 2 and parts[1].isdigit():
            counters[parts[0]] = int(parts[1])
    return counters


class MemoryCap:
    """A child cgroup with a memory limit and no swap, like a Cloud container: what joins it shares the limit."""

    def __init__(self, parent: Path, layout: CgroupLayout, limit_bytes: int, name: str | None = None) -> None:
        self.parent = parent
        self.layout = layout
        self.limit_bytes = limit_bytes
        self.path = parent / (name or f"sentiment-cloud-{os.getpid()}")

    def create(self) -> MemoryCap:
        """Makes the cgroup; the memory limit goes first, since v1 refuses a memory+swap limit below it."""
        self.path.mkdir()
        (self.path / self.layout.limit).write_text(str(self.limit_bytes))
        swap = self.path / self.layout.swap
        if swap.exists() or self.layout.version == 1 and (self.parent / self.layout.swap).exists():
            swap.write_text(str(self.limit_bytes) if self.layout.version == 1 else "0")
        return self

    def join(self) -> None:
        """Moves the calling process in (a `preexec_fn`: the server joins before streamlit starts)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> int:
        return int((self.path / self.layout.peak).read_text().strip())

    def oom_kills(self) -> int:
        return parse_counters((self.path / self.layout.kills).read_text()).get("oom_kill", 0)

    def limit_hits(self) -> int:
        """How often usage met the limit (the kernel then reclaims page cache first; a kill is counted apart)."""
        counters = parse_counters((self.path / self.layout.limit_hits).read_text())
        return counters.get("count" if self.layout.version == 1 else "max", 0)

    def usage_megabytes(self) -> tuple[int, int]:
        """Anonymous memory and page cache charged now, in megabytes (memory.stat)."""
        stat = parse_counters((self.path / "memory.stat").read_text())
        return round(stat.get(self.layout.anonymous, 0) / MEGABYTE), round(stat.get(self.layout.file, 0) / MEGABYTE)

    def remove(self) -> None:
        """Moves any process still inside back to the parent, then removes the cgroup."""
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (self.parent / "cgroup.procs").write_text(pid)
            except OSError:  # it ended meanwhile
                pass
        for _ in range(20):  # the kernel lets go of the group a moment after its last process ends
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.25)
        self.path.rmdir()


@contextmanager
def memory_cap(limit_bytes: int) -> Iterator[MemoryCap | None]:
    """A MemoryCap for the block, removed after it; None (and a note) where no cgroup can be written."""
    found = find_memory_controller()
    if found is None:
        print("No writable memory cgroup (not root, or none delegated): the server runs without a cap.")
        yield None
        return
    cap = MemoryCap(*found, limit_bytes).create()
    try:
        yield cap
    finally:
        cap.remove()


# --- in the browser -----------------------------------------------------------------------------------------------
def rehearse(python: Path, limit_bytes: int, data: Path | None, evict: bool) -> dict[str, list[dict[str, Any]]]:
    """Serves the app under the cap and drives it; `data` None: the sample path alone (quick). `evict`: drop the
    serving venv from the page cache first (a venv of its own; this one's files are mapped by other processes)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, launch_app

    workdir = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    if evict:
        evict_from_page_cache(python.parent.parent)
    with memory_cap(limit_bytes) as cap, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        started = time.monotonic()
        server = launch_app(workdir, env=CLOUD_ENVIRONMENT, address=None, python=python,
                            preexec_fn=cap.join if cap else None)
        healthy_s = time.monotonic() - started
        try:
            measured = _drive(browser, server, cap, data, started)
        finally:
            server.stop()
            browser.close()
        memory = _memory_rows(cap, limit_bytes, measured)
    server_row = {"python": _python_version(python), "public mode on": measured["public"],
                  "venv out of page cache": evict, "health answered s": round(healthy_s, 1),
                  "first page s (home + menu, TensorFlow imported)": round(measured["first_page_s"], 1),
                  "server CPU s (wall s)": f"{measured['cpu_s']:.0f} ({measured['wall_s']:.0f})"}
    return {"server": [server_row], "sessions": measured["sessions"], "memory": memory}


def _drive(browser: Any, server: Any, cap: MemoryCap | None, data: Path | None, started: float) -> dict[str, Any]:
    """The browser part against a running server, and what the server and its cgroup say at the end of it."""
    with PeakMemory(server.process.pid, interval=0.2) as sample_memory, _visitor(browser, 0) as first:
        first_page_s = open_first_page(first, server.url, started)
        sessions = [sample_train_predict(first)]
        public = _public_mode_shown(first)
    concurrent_memory = None
    if data is not None:
        with PeakMemory(server.process.pid, interval=0.2) as concurrent_memory:
            sessions += concurrent_sessions(browser, server.url, data)
    return {
        "first_page_s": first_page_s, "sessions": sessions, "public": public, "sample_memory": sample_memory,
        "concurrent_memory": concurrent_memory, "alive": server.process.poll() is None,
        "charged": cap.usage_megabytes() if cap else None,
        "cpu_s": sum(psutil.Process(server.process.pid).cpu_times()[:2]),  # user + system, all its threads
        "wall_s": time.monotonic() - started,
    }


@contextmanager
def _visitor(browser: Any, index: int) -> Iterator[Any]:
    """A page in a fresh browser context that reaches the app as Cloud's proxy would pass visitor `index`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={"X-Forwarded-For": VISITOR_ADDRESSES[index]})
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_first_page(page: Any, url: str, started: float) -> float:
    """Seconds from `started` (the server's launch) until the home heading and the app's menu both show."""
    from core.i18n import t
    from tests.e2e.support import app_menu

    page.goto(url)
    page.get_by_role("heading", name=t("app_title"), level=1).wait_for(timeout=FIRST_PAGE_TIMEOUT_MS)
    app_menu(page).get_by_role("link").first.wait_for(timeout=FIRST_PAGE_TIMEOUT_MS)
    return time.monotonic() - started


def sample_train_predict(page: Any) -> dict[str, Any]:
    """The bundled sample → Train with the preset the page suggests → Predict one sentence; seconds from Train to
    saved."""
    from tests.e2e.support import go_to, load_sample_on_data_page, wait_for_app

    go_to(page, "Data")
    load_sample_on_data_page(page)
    rows = _rows_kept(page)
    go_to(page, "Train")
    seconds = _train_and_wait(page)
    trained = saved_preset(page)
    go_to(page, "Predict")
    page.get_by_role("textbox", name="Your text").click()
    page.keyboard.type(PREDICT_TEXT, delay=5)
    page.get_by_test_id("stMetric").filter(has_text="Predicted").wait_for()
    wait_for_app(page)
    label = page.get_by_test_id("stMetricValue").first.inner_text().strip()
    return {"session": "1 (sample → train → predict)", "data": "bundled sample", "rows": rows, "preset": trained,
            "waited s": 0.0, "Train → saved s": round(seconds, 1), "result": f"saved; predicted {label!r}"}


def _train_and_wait(page: Any) -> float:
    from tests.e2e.support import press_train

    started = time.monotonic()
    press_train(page)
    page.get_by_text("Saved as").wait_for(timeout=TRAIN_TIMEOUT_S * 1000)
    return time.monotonic() - started


def saved_preset(page: Any) -> str:
    return preset_of(page.get_by_text("Saved as").first.inner_text())


def preset_of(saved_message: str) -> str:
    """The preset in a "Saved as default-20261203-141903 – ..." message: the model's name less its time; the
    whole message when the name is not of that form (renamed by hand)."""
    found = re.search(r"Saved as (\S+?)-\d{8}-\d{6}\b", saved_message)
    return found.group(1) if found else saved_message


def _rows_kept(page: Any) -> str:
    return page.get_by_test_id("stMetric").filter(has_text="Rows kept").get_by_test_id("stMetricValue").inner_text()


def _public_mode_shown(page: Any) -> bool:
    """Whether the Models page says models last only for this session, which it says in public mode alone."""
    from core.i18n import t
    from tests.e2e.support import go_to

    go_to(page, "Models")
    return page.get_by_text(t("models_session_only")).count() == 1


def concurrent_sessions(browser: Any, url: str, data: Path) -> list[dict[str, Any]]:
    """Three visitors load `data`; two press Train at once, the third right after and must wait in line."""
    from tests.e2e.support import go_to, press_train, upload, wait_for_app

    names = ("2 (at once)", "3 (at once)", "4 (queued)")
    with _visitor(browser, 0) as a, _visitor(browser, 1) as b, _visitor(browser, 2) as c:
        pages = dict(zip(names, (a, b, c)))
        rows = ""
        for page in pages.values():
            page.goto(url)
            wait_for_app(page, timeout_ms=FIRST_PAGE_TIMEOUT_MS)
            go_to(page, "Data")
            upload(page, data)
            rows = _rows_kept(page)
            go_to(page, "Train")
        pressed = {}
        for name, page in pages.items():
            press_train(page)
            pressed[name] = time.monotonic()
        queued = _queue_message(pages[names[2]])
        queued.first.wait_for(timeout=30_000)
        position = queued.first.inner_text()
        finished, started = _watch(pages, names[2])
        presets = {name: saved_preset(page) for name, page in pages.items() if name in finished}
    return [{"session": name, "data": data.parent.name + "/" + data.name, "rows": rows, "preset": presets.get(name, ""),
             "waited s": round(started.get(name, pressed[name]) - pressed[name], 1),
             "Train → saved s": round(finished[name] - pressed[name], 1) if name in finished else "not saved",
             "result": ("saved" if name in finished else "**not saved**")
                       + (f"; queued first ({_position(position)})" if name == names[2] else "")}
            for name in names]


def _queue_message(page: Any) -> Any:
    from core.i18n import t

    waiting = t("job_queued", position=0).split(":")[0]  # "Waiting for a free training slot"
    return page.get_by_text(re.compile("^" + re.escape(waiting)))


def _position(message: str) -> str:
    found = re.search(r"position \d+", message)
    return found.group(0) if found else message


def _watch(pages: dict[str, Any], queued_name: str) -> tuple[dict[str, float], dict[str, float]]:
    """Polls every page until each says "Saved as" (or TRAIN_TIMEOUT_S passes): when each saved, and when the
    queued one stopped waiting."""
    finished: dict[str, float] = {}
    started: dict[str, float] = {}
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    while len(finished) < len(pages) and time.monotonic() < deadline:
        for name, page in pages.items():
            if name not in finished and page.get_by_text("Saved as").count():
                finished[name] = time.monotonic()
        queued = pages[queued_name]
        if queued_name not in started and not _queue_message(queued).count():
            started[queued_name] = time.monotonic()
        queued.wait_for_timeout(250)
    return finished, started


def _memory_rows(cap: MemoryCap | None, limit_bytes: int, measured: dict[str, Any]) -> list[dict[str, Any]]:
    """The cap, the peaks (the cgroup's own and the sampled resident memory), and whether anything was killed."""
    rows = [{"measure": "memory cap", "value": f"{limit_bytes / 1e9:.2f} GB, no swap, cgroup v{cap.layout.version}"
             if cap else "none (no writable cgroup)"}]
    if cap:
        rows += [
            {"measure": "peak of the cgroup, page cache included (MB)", "value": round(cap.peak_bytes() / MEGABYTE)},
            {"measure": "charged at the end, anonymous / page cache (MB)", "value": "%d / %d" % measured["charged"]},
        ]
    rows.append({"measure": "peak resident memory, server + children, sample session (MB)",
                 "value": round(measured["sample_memory"].peak_mb)})
    if measured["concurrent_memory"] is not None:
        rows.append({"measure": "peak resident memory, server + children, concurrent sessions (MB)",
                     "value": round(measured["concurrent_memory"].peak_mb)})
    sessions = measured["sessions"]
    saved = sum(1 for session in sessions if str(session["result"]).startswith("saved"))
    rows += [
        {"measure": "times usage met the cap", "value": cap.limit_hits() if cap else "n/a"},
        {"measure": "processes killed for memory (oom_kill)", "value": cap.oom_kills() if cap else "n/a"},
        {"measure": "server alive at the end", "value": "yes" if measured["alive"] else "**no**"},
        {"measure": "runs saved", "value": f"{saved} of {len(sessions)}"},
    ]
    return rows


if __name__ == "__main__":
    main()
