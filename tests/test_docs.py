"""Every Python code block of the README and of docs/*.md runs as written.

The blocks of one page run in order in one namespace (a page is one lesson),
in a fresh process whose working folder is a temporary one, so a block that
writes files leaves nothing in the checkout.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

RUNNER = """
import sys
namespace = {}
for index, block in enumerate(BLOCKS):
    exec(compile(block, f"{PAGE}, python block {index + 1}", "exec"), namespace)
"""


def test_there_are_docs_pages_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", readme))
    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert pages, "docs/ has no pages"
    assert pages <= linked, f"docs pages not linked from the README: {sorted(pages - linked)}"


NEEDS = re.compile(r"^<!-- needs: ([\w, ]+) -->")  # a page's first line may name the optional packages it needs


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_python_block_runs(page, tmp_path):
    text = page.read_text()
    needs = NEEDS.match(text)
    for package in needs.group(1).replace(" ", "").split(",") if needs else []:
        pytest.importorskip(package, reason=f"{page.name} needs {package}, which is not installed")
    blocks = BLOCK.findall(text)
    if not blocks:
        pytest.skip(f"{page.name} has no python blocks")
    source = f"BLOCKS = {blocks!r}\nPAGE = {page.name!r}\n" + RUNNER
    result = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600, env=None)
    assert result.returncode == 0, f"{page.name}: a code block failed:\n{result.stderr[-3000:]}"
