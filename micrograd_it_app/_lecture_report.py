"""The lecture's table in report.html: the study --torch section's numbers, formatted for the template
`templates/report_lecture.html.j2`. Nothing is computed here but formatting; every number comes from the
section's dict (micrograd_it_app._torch_section), and the lecture's published numbers are labelled as its own.
"""

__all__ = ["lecture_context", "LOSS_KEYS"]

LOSS_KEYS = (("loss_step0", "loss at step 0"), ("train_loss", "train loss"), ("val_loss", "val loss"))


def _number(value, digits=4):
    return "-" if value is None else f"{value:.{digits}f}"


def _published(value, decimals):
    # the lecture's numbers with the decimals it printed them with (2.07 has two there)
    return "-" if value is None else f"{value:.{decimals}f}"


def _difference(comparison):
    if comparison["difference"] is None:
        return "-"
    shown = f"{comparison['difference']:+.4f}"
    return "0.0000" if float(shown) == 0 else shown  # no sign on what rounds to zero


def _loss_rows(section):
    rows = []
    for stage in section["stages"]:
        row = [stage["name"], f"{stage['steps']:,}"]
        for key, _ in LOSS_KEYS:
            comparison = stage["comparison"][key]
            row += [_number(comparison["ours"]), _published(comparison["published"], stage["published_decimals"][key]),
                    _difference(comparison)]
        rows.append(row + [f"{stage['seconds']:.1f}"])
    return rows


def _state_cells(numbers):
    return [f"[{numbers['preact_min']:.1f}, {numbers['preact_max']:.1f}]", f"{numbers['preact_std']:.2f}",
            f"{numbers['saturated_pct']:.1f}%", f"{len(numbers['dead'])} / {numbers['n_neurons']}",
            f"{numbers['saturated_all_pct']:.1f}%", f"{len(numbers['dead_all'])} / {numbers['n_neurons']}",
            f"{numbers['pass_through_pct']:.1f}%"]


def _state_rows(section):
    rows = []
    for stage in section["stages"]:
        rows.append([stage["name"], "at init"] + _state_cells(stage["init"]))
        rows.append([stage["name"], f"after {stage['steps']:,} steps"] + _state_cells(stage["trained"]))
    return rows


def _differences(section):
    """The published numbers ours misses by more than the tolerance: (stage, what, ours, lecture's, difference)."""
    missed = []
    for stage in section["stages"]:
        for key, label in LOSS_KEYS:
            comparison = stage["comparison"][key]
            if comparison["within"] is False:
                missed.append((stage["name"], label, _number(comparison["ours"]),
                               _published(comparison["published"], stage["published_decimals"][key]),
                               _difference(comparison)))
    return missed


def lecture_context(section):
    """The template's `lecture`: the section's rows formatted, the stages, the differences; None without --torch."""
    if section is None:
        return None
    by_name = {stage["name"]: stage for stage in section["stages"]}
    return {"section": section, "stages": section["stages"], "by_name": by_name,
            "loss_rows": _loss_rows(section), "state_rows": _state_rows(section),
            "differences": _differences(section),
            "checked": sum(1 for stage in section["stages"] for key, _ in LOSS_KEYS
                           if stage["comparison"][key]["within"] is not None)}
