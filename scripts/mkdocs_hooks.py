"""MkDocs hooks for the spikesmith site (``hooks:`` in mkdocs.yml).

- Every tutorial under ``docs/tutorials/*.py`` runs during the build (``scripts/tutorial_pages.py``,
  each in its own process, two at a time). A percent-format tutorial becomes its page; a script with
  its own page gets the build's run (command, time, output, figures) appended. A failing tutorial
  fails the build.
- The API reference: one page per public package, rendered by mkdocstrings from the docstrings.
- README.md, CHANGELOG.md and CONTRIBUTING.md become pages (README's ``docs/`` links rewritten).
- ``site/tutorial_runs.json`` records what ran and how long it took.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
RUNNER = ROOT / "scripts" / "tutorial_pages.py"

# (package, what it holds): one API page each, in this order
API_PACKAGES = [
    ("neuron", "Neurons"), ("surrogate", "Surrogate gradients"), ("layer", "Layers"),
    ("functional", "Network-wide functions"), ("module", "Step-mode and memory modules"),
    ("dynamics", "Neuron dynamics (the functional core)"), ("kernels", "Fused kernels"),
    ("monitor", "Monitors"), ("encoding", "Encoders"), ("events", "Event-camera data"),
    ("data", "Datasets"), ("models", "Model families"), ("training", "Training"),
    ("learning", "Learning rules"), ("conversion", "ANN to SNN conversion"),
    ("analysis", "Analysis and energy"), ("metrics", "Spike-train metrics"), ("export", "Export"),
    ("compat", "Compatibility with SpikingJelly and snnTorch"), ("run", "Runs"), ("viz", "Plots"),
    ("inference", "Event-driven inference"), ("loading", "Loading checkpoints"),
]

_runs: dict[str, dict] = {}
_footers: dict[str, str] = {}


def _build_dir(config) -> Path:
    return Path(os.environ.get("SPIKESMITH_DOCS_BUILD", ROOT / ".cache" / "docs" / "tutorials"))


def _run_one(script: Path, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(RUNNER), str(script), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=1200)
    if done.returncode != 0:
        raise PluginError(f"tutorial {script.name} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - start
    return result


def on_files(files, config):
    out = _build_dir(config)
    out.mkdir(parents=True, exist_ok=True)
    scripts = sorted(TUTORIALS.glob("*.py"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s: _run_one(s, out), scripts))
    for script, result in zip(scripts, results):
        _runs[script.name] = result
        stem = script.stem
        if (TUTORIALS / f"{stem}.md").is_file():
            _footers[f"tutorials/{stem}.md"] = (out / f"{stem}.footer.md").read_text(encoding="utf-8")
        else:
            files.append(File.generated(config, f"tutorials/{stem}.md",
                                        content=(out / f"{stem}.md").read_text(encoding="utf-8")))
        for figure in result["figures"]:
            files.append(File.generated(config, f"tutorials/{stem}_files/{figure}",
                                        abs_src_path=str(out / f"{stem}_files" / figure)))
    for name, title in API_PACKAGES:
        files.append(File.generated(config, f"api/{name}.md",
                                    content=f"# `spikesmith.{name}`: {title}\n\n::: spikesmith.{name}\n"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme = re.sub(r"\]\(docs/", "](", readme)
    # a percent-format tutorial's script is its page on the site
    readme = re.sub(r"\]\(tutorials/(\w+)\.py\)",
                    lambda m: f"](tutorials/{m.group(1)}.{'py' if (TUTORIALS / (m.group(1) + '.md')).is_file() else 'md'})",
                    readme)
    readme = readme.replace("# spikesmith\n", "# Overview and measured results\n", 1)
    files.append(File.generated(config, "readme.md", content=readme))
    for name in ("CHANGELOG.md", "CONTRIBUTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8").replace("](docs/", "](")
        files.append(File.generated(config, name.lower(), content=text))
    return files


# the top of the navigation, in this order; the rest follows in MkDocs' order
NAV_ORDER = ["index.md", "readme.md", "Tutorials", "migration.md", "design.md", "event-files.md", "peers.md",
             "API reference", "changelog.md", "contributing.md"]
SECTION_TITLES = {"Api": "API reference"}


def on_nav(nav, config, files):
    for item in nav.items:
        if item.is_section and item.title in SECTION_TITLES:
            item.title = SECTION_TITLES[item.title]
        if item.is_section and item.title == "API reference":
            order = [f"api/{name}.md" for name, _ in API_PACKAGES]
            item.children.sort(key=lambda page: order.index(page.file.src_uri) if page.file.src_uri in order else 99)

    def key(item):
        name = item.title if item.is_section else item.file.src_uri
        return NAV_ORDER.index(name) if name in NAV_ORDER else len(NAV_ORDER)

    nav.items.sort(key=key)
    return nav


def on_page_markdown(markdown, page, config, files):
    footer = _footers.get(page.file.src_uri)
    return markdown + "\n\n" + footer if footer else markdown


def on_post_build(config):
    site = Path(config["site_dir"])
    record = {name: {k: v for k, v in r.items() if k != "stdout"} for name, r in _runs.items()}
    (site / "tutorial_runs.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
