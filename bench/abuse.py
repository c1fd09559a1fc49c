"""Issue 16's abuse, replayed against the fixed app in public mode: how a second visitor's session fares while a
first one attacks, and what the attack costs the server in memory and disk.

The attacker is a real browser (headless Chromium, as tests/e2e drive it): the 24 KB CSV of repeated header
names that once pinned a core for minutes (item 1), runs of Epochs 1000 and of batch size 1 from three tabs
(item 2), an upload at public mode's limit (item 3). Meanwhile a second visitor's session, a raw Streamlit
websocket client from another address, reruns the app every half second and times each run: the server's
responsiveness as a visitor feels it. A third visitor then trains while the attacker's runs hold their share.
Models and disk (item 4) are measured in-process on the registry the app saves through: the biggest model public
mode allows, saved until the session's quota refuses one.

    .venv/bin/python bench/abuse.py            # a 19 MB upload, 20 s of training abuse
    .venv/bin/python bench/abuse.py --quick    # a 4 MB upload, 8 s of training abuse
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import MEGABYTE, PeakMemory, base_parser, command_line, report

from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    AppServer,
    chart_points,
    go_to,
    launch_app,
    load_sample_on_data_page,
    open_train_page_with_sample,
    press_train,
    wait_for_app,
)

ATTACKER, SECOND, THIRD = "203.0.113.10", "198.51.100.20", "192.0.2.30"  # documentation addresses (RFC 5737)
PROBE_INTERVAL_S = 0.5
# The file of issue 16.1: 24 KB of one repeated header name (4,800 columns).
WIDE_HEADER = ("text," * 4_800).rstrip(",") + "\n" + "great phone,positive\n"
_WORDS = {"positive": ["great", "love", "excellent", "好", "喜欢"], "negative": ["awful", "hate", "broken", "差", "失望"]}
_FILLER = ["the", "phone", "film", "hotel", "service", "battery", "screen", "这个", "手机", "really", "quite"]


# --- the second visitor: a Streamlit session over a raw websocket -------------------------------------------------
class SessionProbe:
    """Reruns the app's script in its own session every PROBE_INTERVAL_S and records (start, seconds) per run.

    It speaks Streamlit's own protocol (a BackMsg rerun, ForwardMsgs until script_finished), so each sample is a
    whole page run on the server: the event loop, the script thread and the app's session start-up.
    """

    def __init__(self, url: str, visitor: str) -> None:
        self.url, self.visitor = url, visitor
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> SessionProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    async def _run(self) -> None:
        import websockets
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        headers = {"Origin": self.url, "X-Forwarded-For": self.visitor}
        async with websockets.connect(self.url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                      additional_headers=headers, max_size=None) as socket:
            while not self._stop.is_set():
                rerun = BackMsg()
                rerun.rerun_script.query_string = ""
                started = time.monotonic()
                await socket.send(rerun.SerializeToString())
                while True:
                    message = ForwardMsg()
                    message.ParseFromString(await socket.recv())
                    if message.WhichOneof("type") == "script_finished":
                        break
                self.samples.append((started, time.monotonic() - started))
                await asyncio.sleep(PROBE_INTERVAL_S)

    def wait_for_first_run(self, timeout_s: float = 180) -> None:
        """The first run imports TensorFlow; waits for it, so phases measure a warm server."""
        deadline = time.monotonic() + timeout_s
        while not self.samples and time.monotonic() < deadline:
            time.sleep(0.2)

    def between(self, start: float, end: float) -> list[float]:
        return [seconds for began, seconds in self.samples if start <= began < end]


# --- the attacker's files ----------------------------------------------------------------------------------------
def reviews_csv(target_bytes: int, seed: int = 42) -> bytes:
    """Labelled review-like rows (about 80 bytes each) up to `target_bytes`, English and Chinese mixed."""
    rng, out = random.Random(seed), io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "label"])
    row = 0
    while out.tell() < target_bytes:
        label = ("negative", "positive")[row % 2]
        words = rng.sample(_FILLER, 6) + [rng.choice(_WORDS[label])] + rng.sample(_FILLER, 4)
        writer.writerow([" ".join(words) + f" {row}", label])
        row += 1
    return out.getvalue().encode()


# --- phases ------------------------------------------------------------------------------------------------------
def _phase(name: str, server: AppServer, probe: SessionProbe, action: Callable[[], str]) -> dict[str, Any]:
    """Runs one attack step, timing it and the server's peak memory, and the second visitor's runs meanwhile."""
    from playwright.sync_api import Error as BrowserError

    with PeakMemory(server.process.pid, interval=0.1) as memory:
        started = time.monotonic()
        try:
            outcome = action()
        except BrowserError as error:  # a step that timed out on a busy machine is a result too; go on
            outcome = "gave up: " + _one_line(str(error), 120)
        seconds = time.monotonic() - started
    runs = probe.between(started, started + seconds)
    print(f"{name}: {seconds:.1f} s, {outcome}", file=sys.stderr, flush=True)
    return {
        "attack": name, "seconds": round(seconds, 1), "what the attacker saw": outcome,
        "server RSS before / peak (MB)": f"{memory.start_bytes / MEGABYTE:,.0f} / {memory.peak_mb:,.0f}",
        "2nd visitor's runs": len(runs),
        "2nd visitor median / max (s)": f"{statistics.median(runs):.2f} / {max(runs):.2f}" if runs else "–",
    }


def _alert_text(page: Any, timeout_ms: int = 120_000) -> str:
    """The first error or warning box the page shows, waited for, as one line."""
    alert = page.locator('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]').first
    alert.wait_for(timeout=timeout_ms)
    return _one_line(alert.inner_text())


def _one_line(text: str, limit: int = 170) -> str:
    """A box's text for a table cell: without its icon's name, on one line, no "|" to break the table."""
    words = text.split()
    if words and words[0] in ("error", "warning", "info", "check_circle"):
        words = words[1:]
    return " ".join(words).replace("|", "/")[:limit]


def _upload_and_read(page: Any, name: str, content: bytes) -> str:
    go_to(page, "Data")
    # As tests/e2e's `upload`, with room for a big file to be read on a busy machine.
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content})
    page.wait_for_function("""() => document.querySelector('[data-testid="stAlertContentError"]')
        || [...document.querySelectorAll('h3')].some(h => h.innerText.startsWith('Loaded: '))""", timeout=300_000)
    wait_for_app(page, timeout_ms=300_000)
    if page.get_by_test_id("stAlertContentError").count():
        return "refused: " + _alert_text(page)
    rows = page.get_by_test_id("stMetric").filter(has_text="Rows kept").get_by_test_id("stMetricValue").inner_text()
    return f"read, {rows} rows kept"


def _set_epochs_and_train(page: Any, epochs: int, batch_size: int | None = None) -> set[str]:
    """Sets the run on the Train page and presses Train; returns the error boxes shown before pressing."""
    from tests.e2e.support import fill_training_form

    go_to(page, "Train")
    fill_training_form(page, epochs=epochs, batch_size=batch_size, early_stopping=False)
    before = set(_errors(page))
    press_train(page)
    wait_for_app(page, timeout_ms=120_000, settle_ms=1000)
    return before


def _errors(page: Any) -> list[str]:
    return [_one_line(text) for text in page.get_by_test_id("stAlertContentError").all_inner_texts()]


def _try_over_cap(page: Any) -> str:
    _set_epochs_and_train(page, epochs=1000)
    return _alert_text(page)


def _hold_the_slots(pages: list[Any], hold_s: float) -> str:
    """Three tabs of the attacker each press Train on a 100-epoch, batch-size-1 run without early stopping."""
    seen = []
    for page in pages:
        seen.append(_run_state(page, _set_epochs_and_train(page, epochs=100, batch_size=1)))
    time.sleep(hold_s)
    return "; ".join(f"tab {index + 1}: {text}" for index, text in enumerate(seen))


def _run_state(page: Any, errors_before: set[str], timeout_s: float = 180) -> str:
    """What a tab shows once Train is pressed: its place in line, its first epoch, or a new refusal."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = page.get_by_text(re.compile("^Waiting for a free training slot"))
        if waiting.count():
            return _one_line(waiting.first.inner_text(), 60)
        if chart_points(page) > 0:
            return "training"
        refusals = [text for text in _errors(page) if text not in errors_before]
        if refusals:
            return "refused: " + refusals[0]
        page.wait_for_timeout(500)
    return f"nothing shown after {timeout_s:.0f} s"


def _third_visitor_trains(page: Any, url: str) -> str:
    """Another visitor loads the sample and trains while the attacker's runs hold their share."""
    open_train_page_with_sample(page, url, timeout_ms=300_000)
    started = time.monotonic()
    press_train(page)
    first = _run_state(page, set(), timeout_s=300)
    if first != "training":
        first += "; then " + _run_state(page, set(), timeout_s=300)
    return f"{first}, {time.monotonic() - started:.1f} s after Train"


def _stop_all(pages: list[Any]) -> str:
    """Presses Stop (or Cancel, in line) in every tab and waits until each stopped run is saved."""
    for page in pages:
        for name in ("Stop", "Cancel"):
            for button in page.get_by_role("button", name=re.compile(f"{name}$")).all():
                if button.is_enabled():
                    button.click()
                    wait_for_app(page, timeout_ms=120_000)
    for page in pages:
        if page.get_by_role("button", name="Use this model").count() == 0:
            page.wait_for_timeout(2000)
    return f"{len(pages)} tabs stopped"


def _browser_phases(server: AppServer, probe: SessionProbe, models_dir: Path, upload_bytes: int,
                    hold_s: float) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        attacker = browser.new_context(viewport={"width": 1400, "height": 1000},
                                       extra_http_headers={"X-Forwarded-For": ATTACKER})
        attacker.set_default_timeout(300_000)
        tabs = [attacker.new_page() for _ in range(3)]
        for tab in tabs:
            tab.goto(server.url)
            wait_for_app(tab, timeout_ms=180_000)
        big = reviews_csv(upload_bytes)
        rows = [
            _phase("item 1: 24 KB CSV, 4,800 repeated header names", server, probe,
                   lambda: _upload_and_read(tabs[0], "wide.csv", WIDE_HEADER.encode())),
            _phase(f"item 3: {len(big) / MEGABYTE:.1f} MB CSV upload (public limit 20 MB)", server, probe,
                   lambda: _upload_and_read(tabs[0], "big.csv", big)),
        ]
        for tab in tabs[1:]:
            go_to(tab, "Data")
            load_sample_on_data_page(tab)
        rows.append(_phase("item 2: Epochs 1000", server, probe, lambda: _try_over_cap(tabs[2])))
        rows.append(_phase(f"item 2: 3 tabs train 100 epochs, batch 1, no early stop (held {hold_s:.0f} s)",
                           server, probe, lambda: _hold_the_slots(tabs, hold_s)))
        third = browser.new_context(viewport={"width": 1400, "height": 1000},
                                    extra_http_headers={"X-Forwarded-For": THIRD})
        third.set_default_timeout(300_000)
        visitor = third.new_page()
        rows.append(_phase("item 2: a third visitor trains meanwhile", server, probe,
                           lambda: _third_visitor_trains(visitor, server.url)))
        rows.append(_phase("stop every run", server, probe, lambda: _stop_all([*tabs, visitor])))
        rows.append({"attack": "item 4: the sessions' model folders after stopping every run",
                     "what the attacker saw": _folder_sizes(models_dir)})
        browser.close()
    return rows


def _folder_sizes(models_dir: Path) -> str:
    """Megabytes in each public session's models folder."""
    from core.shelf import SESSIONS_FOLDER

    root = models_dir / SESSIONS_FOLDER
    sizes = sorted((sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / MEGABYTE
                    for folder in root.iterdir() if folder.is_dir()), reverse=True) if root.is_dir() else []
    return ", ".join(f"{size:.1f} MB" for size in sizes) or "no session saved a model"


def upload_cost_rows(upload_bytes: int) -> list[dict[str, Any]]:
    """The attacker's upload read by core.data (the part PARSE_BYTES_PER_FILE_BYTE budgets for) and then checked
    by core.health as the Data page does, each timed with its memory peak over the start."""
    from core.config import TrainConfig
    from core.data import load_dataset
    from core.health import check_health
    from core.limits import PARSE_BYTES_PER_FILE_BYTE

    content = reviews_csv(upload_bytes)
    rows, steps = [], (("core.data.load_dataset", lambda _: load_dataset(io.BytesIO(content), name="big.csv")),
                       ("core.health.check_health", lambda dataset: check_health(dataset, TrainConfig())))
    result = None
    for step, run in steps:
        with PeakMemory() as memory:
            started = time.monotonic()
            result = run(result)
            seconds = time.monotonic() - started
        rows.append({"step": step, "seconds": round(seconds, 1), "peak over start (MB)": round(memory.delta_mb),
                     "× file size": round(memory.delta_mb * MEGABYTE / len(content), 1),
                     "budgeted ×": PARSE_BYTES_PER_FILE_BYTE if step.startswith("core.data") else "–"})
    return rows


# --- item 4: disk, in-process on the registry the app saves through ----------------------------------------------
def disk_rows(workdir: Path) -> list[dict[str, Any]]:
    """The largest model public mode allows, saved until the session quota refuses one; with and without the
    optimizer's state, which the registry no longer keeps."""
    import keras
    import tensorflow as tf

    from core.config import TrainConfig
    from core.errors import DiskQuotaError
    from core.limits import PUBLIC_MAX_PARAMETERS, PUBLIC_SESSION_DISK_BYTES, estimate_parameters
    from core.model import build_model
    from core.registry import ModelRegistry

    # 40,000 distinct words, so the vocabulary fills up to its size as a real corpus's would.
    texts = [" ".join(f"word{row * 10 + column}" for column in range(10)) + (" great", " awful")[row % 2]
             for row in range(4000)]
    config = TrainConfig(family="mlp", layer_sizes=[512], vocab_size=38_900, ngrams=1)
    parameters = estimate_parameters(config, 2)
    model = build_model(config, texts, ("negative", "positive"))
    model.fit(tf.constant([[text] for text in texts[:64]]), keras.utils.to_categorical([0, 1] * 32, 2), epochs=1,
              verbose=0)  # Adam's moments now exist, as after any training
    with_optimizer = workdir / "with-optimizer.keras"
    model.save(with_optimizer)
    registry = ModelRegistry(workdir / "session", quota_bytes=PUBLIC_SESSION_DISK_BYTES)
    saved, refused, started = [], "", time.monotonic()
    for _ in range(10):
        try:
            saved.append(registry.save(model, {"config": config.to_dict(), "classes": ["negative", "positive"]},
                                       name="largest"))
        except DiskQuotaError as error:
            refused = str(error)[:220]
            break
    seconds = time.monotonic() - started
    model_file = saved[0].path / "model.keras"
    total = sum(file.stat().st_size for file in (workdir / "session").rglob("*") if file.is_file())
    return [{
        "model": f"mlp, {parameters:,} weights (public cap {PUBLIC_MAX_PARAMETERS:,})",
        "model.keras with optimizer (MB)": round(with_optimizer.stat().st_size / MEGABYTE, 1),
        "as saved now (MB)": round(model_file.stat().st_size / MEGABYTE, 1),
        "saved before the quota": len(saved), "seconds": round(seconds, 1),
        "session folder / quota (MB)": f"{total / MEGABYTE:.0f} / {PUBLIC_SESSION_DISK_BYTES / MEGABYTE:.0f}",
        "next save": refused or "not refused",
    }]


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"Skipping: {CHROMIUM} is missing (apt-get install chromium).")
        return
    upload_bytes, hold_s = (4 * MEGABYTE, 8.0) if args.quick else (19 * MEGABYTE, 20.0)
    workdir = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
    server = launch_app(workdir, env={"STUDIO_PUBLIC_MODE": "1"})
    try:
        with SessionProbe(server.url, SECOND) as probe:
            probe.wait_for_first_run()
            phases = [_phase("none (idle server, 5 s)", server, probe, lambda: (time.sleep(5), "")[1])]
            phases += _browser_phases(server, probe, workdir / "models", upload_bytes, hold_s)
    finally:
        server.stop()
    report("Abuse", command_line(), {
        "a second visitor while the first attacks (public mode)": phases,
        "where the upload's time and memory go (in-process, same file)": upload_cost_rows(upload_bytes),
        "disk: one session saving the largest allowed model": disk_rows(workdir),
    }, args.json)


if __name__ == "__main__":
    main()
