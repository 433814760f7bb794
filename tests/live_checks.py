"""What a notebook's live training view must have sent, read from the kernel's iopub messages.

One display id (shown once with display_data, then only update_display_data for that id), a
bounded number of updates (at most the view's 2 frames a second over the time the cell ran, plus the
first and the final frame, and never more than one per step), and a final frame drawn from the final
step's numbers. Those numbers are computed in the kernel by `FINAL_NUMBERS` from the notebook's own
last trace and loss (the trace's dead() and summary(), not the view's code), and compared with what
the last frame carries: its metadata, its text, and the Description chunk inside the PNG itself.
"""

import base64
import datetime
import io
import math

# Run in the kernel after the lesson: the last step's numbers as the notebook's own objects give them.
FINAL_NUMBERS = """\
import json as _json
_layer = tr.layers[0]
print(_json.dumps({"step": STEPS - 1, "steps": STEPS,
                   "loss": float(loss.item() if hasattr(loss, "item") else loss.data),
                   "dead": len(_layer.dead()), "saturated_pct": float(_layer.summary()["saturated_pct"])}))
"""

MAX_FPS = 2.0  # the view's default


def _time(message):
    date = message["header"]["date"]
    return date if isinstance(date, datetime.datetime) else datetime.datetime.fromisoformat(str(date))


def _png_description(png):
    from PIL import Image

    return Image.open(io.BytesIO(png)).text["Description"]


def check_messages(messages, final):
    """Assert the live view's messages (a list of (cell index, iopub message)) against `final` (FINAL_NUMBERS' dict)."""
    shown = [(cell, m) for cell, m in messages if m["msg_type"] == "display_data"
             and m["content"].get("transient", {}).get("display_id")]
    assert len(shown) == 1, f"the view should open one output area, got {len(shown)} display ids"
    cell, first = shown[0]
    display_id = first["content"]["transient"]["display_id"]
    updates = [m for _, m in messages if m["msg_type"] == "update_display_data"]
    assert all(m["content"]["transient"]["display_id"] == display_id for m in updates)
    cell_messages = [m for index, m in messages if index == cell]
    seconds = (_time(cell_messages[-1]) - _time(cell_messages[0])).total_seconds()
    assert len(updates) + 1 <= min(final["steps"], MAX_FPS * seconds + 2), (len(updates), seconds)
    last = (updates or [first])[-1]["content"]
    numbers = last["metadata"]["micrograd_it"]["live_view"]
    assert numbers["step"] == final["step"] and numbers["loss"] == final["loss"]
    layer = numbers["layers"][0]
    assert layer["dead"] == final["dead"]
    assert math.isclose(layer["saturated_pct"], final["saturated_pct"], rel_tol=1e-12)
    text = last["data"]["text/plain"]
    assert f"step {final['step']}: loss {final['loss']:.6g}" in text
    assert f"{final['dead']}/{layer['n_neurons']} dead, {final['saturated_pct']:.1f}% saturated" in text
    assert _png_description(base64.b64decode(last["data"]["image/png"])) == text
