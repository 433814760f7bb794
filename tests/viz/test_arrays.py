"""viz._arrays with PyTorch and numpy data in every float dtype: the saturation mask is the library's own comparison.

The reference is PyTorch itself (``h.abs() > threshold`` computed in the tensor's
dtype) and numpy's own comparison for numpy arrays; the data always holds the
values right at the threshold as the dtype stores it, and their neighbours.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from viz._arrays import as_array, threshold_in_dtype  # noqa: E402
from viz.plots import activation_hist, saturation_map, saturation_mask  # noqa: E402

THRESHOLDS = [0.99, 0.991, 0.995, 0.999, 0.9, 0.5]
TORCH_FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def tensor_at_threshold(dtype, threshold, seed=0):
    """32 x 40 activations of `dtype`: tanh of wide noise, plus +-threshold as stored and its two neighbours."""
    generator = torch.Generator().manual_seed(seed)
    h = torch.tanh(3.0 * torch.randn(32, 40, generator=generator, dtype=torch.float64)).to(dtype)
    stored = torch.tensor(threshold, dtype=dtype)
    edge = torch.stack([stored, torch.nextafter(stored, torch.tensor(2.0, dtype=dtype)),
                        torch.nextafter(stored, torch.tensor(0.0, dtype=dtype))])
    h[0, :3], h[1, :3] = edge, -edge
    return h


@pytest.mark.parametrize("dtype", TORCH_FLOATS, ids=str)
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_saturation_mask_of_a_tensor_is_pytorchs_own_comparison(dtype, threshold):
    h = tensor_at_threshold(dtype, threshold)
    mask, dead, _ = saturation_mask(h, threshold)
    expected = (h.abs() > threshold).numpy()
    assert np.array_equal(mask, expected)
    assert dead == torch.nonzero((h.abs() > threshold).all(dim=0)).flatten().tolist()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32], ids=str)
def test_the_test_data_does_tell_the_dtype_from_float64(dtype):
    # each of these thresholds is rounded *up* in that dtype: the stored value is above the threshold
    # in float64 but not in its own dtype, so comparing the float64 copy would give another mask
    threshold = {torch.float16: 0.99, torch.bfloat16: 0.991, torch.float32: 0.99}[dtype]
    h = tensor_at_threshold(dtype, threshold)
    in_float64 = np.abs(h.double().numpy()) > threshold
    assert not np.array_equal(in_float64, (h.abs() > threshold).numpy())


def test_a_bfloat16_tensor_that_requires_grad_is_accepted_and_converted_exactly():
    preact = torch.randn(8, 5, dtype=torch.bfloat16, generator=torch.Generator().manual_seed(1), requires_grad=True)
    h = torch.tanh(preact)
    array = as_array(h, "h")
    assert array.dtype == np.float64
    assert np.array_equal(array, h.detach().double().numpy())  # bfloat16 -> float64 is exact
    ax = saturation_map(h)
    assert np.array_equal(ax.images[0].get_array(), (h.abs() > 0.99).numpy())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32], ids=str)
def test_activation_hist_counts_saturation_as_pytorch_does(dtype):
    h = tensor_at_threshold(dtype, 0.99)
    share = 100 * (h.abs() > 0.99).double().mean().item()
    assert f"saturated {share:.1f}%" in activation_hist(h).get_title()
    lines = activation_hist({"a": h, "b": h[:16]}).get_legend().get_texts()
    assert f"saturated {100 * (h[:16].abs() > 0.99).double().mean().item():.1f}%" in lines[1].get_text()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_saturation_mask_of_a_numpy_array_is_numpys_own_comparison(dtype, threshold):
    h = np.tanh(np.random.default_rng(2).normal(0.0, 3.0, size=(16, 30))).astype(dtype)
    stored = dtype(threshold)
    h[0, :3] = [stored, np.nextafter(stored, dtype(2)), np.nextafter(stored, dtype(0))]
    mask, _, _ = saturation_mask(h, threshold)
    assert np.array_equal(mask, np.abs(h) > threshold)  # numpy >= 2 compares a Python float in h's dtype


def test_the_threshold_of_other_data_is_left_as_it_is():
    assert threshold_in_dtype([[0.5, 0.99]], 0.99) == 0.99
    assert threshold_in_dtype(np.zeros(3), 0.99) == 0.99
    assert threshold_in_dtype(torch.zeros(3, dtype=torch.int64), 0.99) == 0.99


def test_a_complex_or_text_tensor_is_still_refused():
    with pytest.raises(TypeError, match="real numbers"):
        as_array(torch.zeros(2, 2, dtype=torch.complex64), "h")
