"""bench/cloud.py's memory cap, on a folder laid out like a cgroup tree: where it finds a controller, what it writes
for the limit and the swap, and how it reads the peak and the kills back. No root, browser or network needed."""

from __future__ import annotations

from pathlib import Path

from bench.cloud import V1, V2, MemoryCap, find_memory_controller, parse_counters, preset_of

GB = 1_000_000_000


def _v1_tree(root: Path, *, swap_accounting: bool = True) -> Path:
    memory = root / "memory"
    memory.mkdir()
    (memory / V1.limit).write_text("9223372036854771712\n")
    if swap_accounting:
        (memory / V1.swap).write_text("9223372036854771712\n")
    return memory


def test_a_v1_memory_controller_is_found_before_v2(tmp_path: Path) -> None:
    memory = _v1_tree(tmp_path)
    (tmp_path / "cgroup.subtree_control").write_text("cpu memory\n")
    assert find_memory_controller(tmp_path) == (memory, V1)


def test_v2_is_used_only_where_the_memory_controller_is_delegated(tmp_path: Path) -> None:
    (tmp_path / "cgroup.subtree_control").write_text("cpu io\n")
    assert find_memory_controller(tmp_path) is None
    (tmp_path / "cgroup.subtree_control").write_text("cpu io memory\n")
    assert find_memory_controller(tmp_path) == (tmp_path, V2)


def test_no_cgroup_tree_means_no_cap(tmp_path: Path) -> None:
    assert find_memory_controller(tmp_path / "missing") is None


def test_v1_cap_sets_memory_and_memory_plus_swap_to_the_same_limit(tmp_path: Path) -> None:
    cap = MemoryCap(_v1_tree(tmp_path), V1, int(2.7 * GB), name="rehearsal").create()
    assert cap.path == tmp_path / "memory" / "rehearsal"
    assert (cap.path / V1.limit).read_text() == "2700000000"
    assert (cap.path / V1.swap).read_text() == "2700000000"  # memsw is memory + swap: no swap at all


def test_v1_cap_leaves_swap_alone_where_the_kernel_does_not_account_it(tmp_path: Path) -> None:
    cap = MemoryCap(_v1_tree(tmp_path, swap_accounting=False), V1, GB, name="rehearsal").create()
    assert (cap.path / V1.limit).read_text() == str(GB)
    assert not (cap.path / V1.swap).exists()


def test_peak_kills_and_limit_hits_are_read_from_each_version_s_files(tmp_path: Path) -> None:
    v1 = MemoryCap(_v1_tree(tmp_path), V1, GB, name="one").create()
    (v1.path / V1.peak).write_text("1500000000\n")
    (v1.path / V1.kills).write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (v1.path / V1.limit_hits).write_text("17\n")
    (v1.path / "memory.stat").write_text("cache 104857600\nrss 524288000\nmapped_file 0\n")
    assert (v1.peak_bytes(), v1.oom_kills(), v1.limit_hits()) == (1_500_000_000, 2, 17)
    assert v1.usage_megabytes() == (500, 100)

    v2 = MemoryCap(tmp_path, V2, GB, name="two")
    v2.path.mkdir()
    (v2.path / V2.kills).write_text("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n")
    (v2.path / "memory.stat").write_text("anon 209715200\nfile 314572800\n")
    assert (v2.oom_kills(), v2.limit_hits(), v2.usage_megabytes()) == (1, 5, (200, 300))


def test_counters_ignore_lines_that_are_not_a_name_and_a_count() -> None:
    assert parse_counters("oom_kill 3\nsome text here\nunder_oom x\n\n") == {"oom_kill": 3}
    assert parse_counters("42\n") == {"count": 42}


def test_the_preset_is_read_from_the_saved_model_s_name() -> None:
    assert preset_of("Saved as default-20261203-141903 – test accuracy 81.8%.") == "default"
    assert preset_of("Saved as article-lstm-20261203-141903 – test accuracy 80.0%.") == "article-lstm"
    assert preset_of("Saved as my-model – test accuracy 80.0%.") == "Saved as my-model – test accuracy 80.0%."
