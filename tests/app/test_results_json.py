"""results.json: written with every study, plain JSON, holding the data used and every number of the report's tables
(a table cell's number is found in results.json at the precision the report prints it)."""

import json
import math
from dataclasses import replace
import re
from html.parser import HTMLParser

import pytest

from micrograd_it.data import lecture_split
from micrograd_it_app import study
from micrograd_it_app._results import study_results

from .test_study import TINY


class Cells(HTMLParser):
    """Every table of a page as rows of cell texts, headers included."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(page):
    parser = Cells()
    parser.feed(page)
    return parser.tables


def _numbers(text):
    """The numbers written in a cell: a sign only where it starts a number ("1-3" is one to three)."""
    found = re.findall(r"((?<![\w.%)])[-−+])?(\d[\d,]*(?:\.\d+)?(?:e[-+]\d+)?)", text)
    return [(sign.replace("−", "-").replace("+", ""), digits.replace(",", "")) for sign, digits in found]


def _json_numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_numbers(item)


def _shown_as(number, sign, digits):
    """True when `number` printed at the precision of `digits` (e.g. "2.1245", "61.0", "1.80e-04") gives them."""
    if "e" in digits:
        text = f"{number:.{len(digits.split('e')[0].partition('.')[2])}e}"
    else:
        text = f"{number:.{len(digits.partition('.')[2])}f}"
    return text == sign + digits or (text == "-" + digits and sign == "" and float(digits) == 0)



def numbers_missing_from(results, page):
    """The numbers of `page`'s tables (but the files table) that no number of `results` prints as:
    a list of (table's first header, row's first cell, cell, number)."""
    known = list(_json_numbers(results))
    missing = []
    for table in tables(page):
        if table[0] and table[0][-1] == "file":  # the files table: names, not numbers
            continue
        for row in table[1:]:
            for cell in row:
                for sign, digits in _numbers(cell):
                    if not any(_shown_as(number, sign, digits) for number in known):
                        missing.append((table[0][0], row[0], cell, sign + digits))
    return missing


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("results_json")
    result = study.run_study(str(out_dir), study.StudyOptions(seeds=2, **TINY))
    with open(result.results, encoding="utf-8") as file:
        return result, json.load(file)


def test_results_json_is_written_with_the_data_and_the_runs_numbers(tiny_run):
    result, results = tiny_run
    _, itos, train, dev, test = lecture_split()  # the data, split again here
    assert results["data"]["contexts"] == {"train": len(train[0]), "dev": len(dev[0]), "test": len(test[0])}
    assert results["data"]["name"] == "names.txt" and results["data"]["characters"] == len(itos) == 27
    assert results["lecture"] is None  # no --torch
    for run, saved in zip(result.runs, results["configurations"]):
        assert saved["key"] == run.key and saved["loss_start"] == run.losses[0]
        assert saved["final"]["loss"] == run.final["loss"] and saved["final"]["dead_count"] == len(run.final["dead"])
    assert [saved["seed"] for saved in results["seed_runs"]] == [run.seed for run in result.seed_runs]


def test_every_number_of_the_reports_tables_is_in_results_json(tiny_run):
    result, results = tiny_run
    with open(result.report, encoding="utf-8") as file:
        page = file.read()
    assert len([cell for table in tables(page) for row in table[1:] for cell in row]) > 30  # the check reads tables
    assert numbers_missing_from(results, page) == []
    # and the check can fail: without the configurations, their numbers are missing
    assert numbers_missing_from({**results, "configurations": []}, page) != []


def test_numbers_json_cannot_hold_are_named_or_refused(tiny_run):
    result, _ = tiny_run
    odd = replace(result, tanh_table=[(math.inf, math.nan, -math.inf)])
    assert study_results(odd)["tanh_table"] == [{"x": "inf", "tanh": "nan", "local_derivative": "-inf"}]
    with pytest.raises(TypeError, match="results.json cannot hold <object object"):
        study_results(replace(result, tanh_table=[(object(), 0.0, 0.0)]))
