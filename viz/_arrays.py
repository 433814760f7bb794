"""Turn what a user hands to a figure into a numpy array, or say clearly why not.

The figures accept the same data from three places:
- a trace layer (`micrograd_it.trace.LayerTrace`: ``.act``, ``.preact``, ``.grad_in`` ... as nested lists);
- any array-like: nested lists, a numpy array, a list of `Value`s;
- a PyTorch tensor (anything with ``.detach()``) in any real dtype, bfloat16 included, so a makemore
  notebook can pass ``h`` directly.
A layer trace is recognised by its attributes (duck typing), so viz never needs nn to be importable.

Numbers are converted to float64, which holds every float16, bfloat16 and float32 exactly. A
threshold is compared as the data's own dtype compares it (`abs_above`): PyTorch's
``h.abs() > 0.99`` on a float32 tensor rounds 0.99 to float32 first, so a value stored as
float32(0.99) is *not* above it -- and our saturation map says the same.
"""

import numbers

import numpy as np

from micrograd_it import Value

LAYER_TRACE_ATTRIBUTES = ("name", "activation", "act", "preact", "saturated", "dead")


def describe(value):
    """Return "repr (type)" of a value, shortened, for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def is_layer_trace(item):
    """True when `item` looks like a LayerTrace (has name, activation, act, preact, saturated, dead)."""
    return all(hasattr(item, attribute) for attribute in LAYER_TRACE_ATTRIBUTES)


def _row_lengths(values):
    lengths = [len(row) if hasattr(row, "__len__") else "a number" for row in list(values)[:8]]
    return ", ".join(str(length) for length in lengths) + (", ..." if len(values) > 8 else "")


def _unbox_values(array, what):
    """Object arrays: replace each Value by its .data; anything else that is not a real number is a TypeError."""
    numbers_ = []
    for item in array.ravel():
        if isinstance(item, Value):
            item = item.data
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise TypeError(f"{what} must hold real numbers, got {describe(item)}")
        numbers_.append(float(item))
    return np.array(numbers_, dtype=float).reshape(array.shape)


# The largest |number| a figure draws: matplotlib's axis maths (margins, transforms) overflows on a range
# near the largest float (1.8e308), and fails with a singular matrix, not an error that names the data.
DRAWABLE = 1e300


def as_array(values, what, max_ndim=2, min_ndim=1):
    """Return `values` as a float64 numpy array with min_ndim..max_ndim dimensions.

    Raises TypeError for non-numbers (strings, None, objects) and ValueError for
    ragged nested lists, too many dimensions, an empty array, nan/inf values or values beyond
    +-DRAWABLE (1e300);
    each message starts with `what` (e.g. "activation_hist h").
    """
    if hasattr(values, "detach"):
        values = _tensor_to_numpy(values, what)
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{what} must be an array-like of numbers, got {describe(values)}")
    try:
        array = np.asarray(values)
    except ValueError:  # numpy >= 1.24 refuses ragged nested lists
        raise ValueError(f"{what} is ragged: its rows have lengths {_row_lengths(values)}") from None
    if array.dtype == object:
        array = _unbox_values(array, what)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold real numbers, got an array of dtype {array.dtype}: {describe(values)}")
    if not min_ndim <= array.ndim <= max_ndim:
        allowed = {(1, 1): "1-D", (1, 2): "1-D or 2-D (samples x neurons)"}.get(
            (min_ndim, max_ndim), f"{min_ndim}-D to {max_ndim}-D")
        raise ValueError(f"{what} must be {allowed}, got a {array.ndim}-D array of shape {array.shape}"
                         + ("; pass several layers as a dict name -> array" if array.ndim == 3 else ""))
    if array.size == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    array = array.astype(float)
    finite = np.isfinite(array)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{what} holds {int((~finite).sum())} nan/inf values, the first at index {first}")
    beyond = np.abs(array) > DRAWABLE
    if beyond.any():
        first = tuple(int(i) for i in np.argwhere(beyond)[0])
        raise ValueError(f"{what} holds {int(beyond.sum())} values beyond +-{DRAWABLE:g}, which matplotlib cannot "
                         f"place on an axis; the first is {array[first]!r} at index {first}")
    return array


def _tensor_to_numpy(tensor, what):
    """A torch tensor as a numpy array; dtypes numpy lacks (bfloat16, float8) go through float32, exactly."""
    tensor = tensor.detach().cpu()  # .numpy() refuses tensors that require grad or live on a GPU
    try:
        return tensor.numpy()
    except TypeError:  # "Got unsupported ScalarType BFloat16"
        if not tensor.is_floating_point():
            raise TypeError(f"{what} must hold real numbers, got a tensor of dtype {tensor.dtype}") from None
        return tensor.float().numpy()  # every bfloat16/float8 value is a float32 value


def threshold_in_dtype(values, threshold):
    """Return `threshold` rounded to the floating dtype `values` are stored in, as a Python float.

    float16/bfloat16/float32 tensors and float16/float32 numpy arrays round it as
    PyTorch and numpy do before comparing; anything else (lists, float64, a trace) keeps it.
    """
    dtype = getattr(values, "dtype", None)
    if hasattr(values, "new_tensor") and hasattr(values, "is_floating_point"):  # a torch tensor
        # torch rounds the Python scalar to the tensor's dtype; an integer tensor compares in float32
        # (the default dtype), where every threshold in (0, 1) gives the same answer on integers
        return float(values.new_tensor(threshold).item()) if values.is_floating_point() else threshold
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return float(dtype.type(threshold))
    return threshold


def abs_above(array, values, threshold):
    """Return the boolean array ``|array| > threshold`` with `threshold` as `values`' dtype sees it.

    `array` is `as_array(values)`: float64 holds every lower-precision float exactly, so
    this is the very comparison PyTorch (``h.abs() > 0.99``) or numpy make in that dtype.
    """
    return np.abs(array) > threshold_in_dtype(values, threshold)


def as_matrix(values, what):
    """Return `values` as a 2-D float array (samples x neurons); a 1-D input is an error here."""
    array = as_array(values, what)
    if array.ndim != 2:
        raise ValueError(f"{what} must be 2-D (samples x neurons), got shape {array.shape}")
    return array


def as_layers(data, attribute, what):
    """Return [(name, array, layer_trace or None, source)] when `data` holds several layers, else None.

    `source` is what the array was made from (a tensor keeps its dtype there, for `abs_above`).

    Several layers are a list/tuple of layer traces, or a dict name -> layer trace or array-like.
    `attribute` ("act", "preact", "grad_in", ...) is read from each layer trace.
    """
    if isinstance(data, dict):
        if not data:
            raise ValueError(f"{what} got an empty dict of layers")
        items = data.items()
    elif isinstance(data, (list, tuple)) and data and all(is_layer_trace(item) for item in data):
        items = [(item.name, item) for item in data]
    else:
        if hasattr(data, "layers") and not is_layer_trace(data):
            raise TypeError(f"{what} got {describe(data)}: pass its .layers (a list of layer traces)")
        return None
    layers = []
    for name, item in items:
        trace = item if is_layer_trace(item) else None
        values = getattr(item, attribute) if trace is not None else item
        layers.append((str(name), as_array(values, f"{what} layer {name!r}"), trace, values))
    return layers


def one_layer(data, attribute, what):
    """Return (array, layer_trace or None, source) for a single layer trace or array-like."""
    if is_layer_trace(data):
        values = getattr(data, attribute)
        return as_array(values, f"{what} ({data.name}.{attribute})"), data, values
    return as_array(data, what), None, data
