"""The lecture neuron: o = tanh(x1*w1 + x2*w2 + b), its forward values and its gradients.

Run: python demos/lecture_neuron.py
"""

from micrograd_it import Value, gradcheck

# inputs x1, x2; weights w1, w2; bias b chosen so that n = 0.8814 and o = tanh(n) = 1/sqrt(2)
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")

x1w1 = x1 * w1
x1w1.label = "x1*w1"
x2w2 = x2 * w2
x2w2.label = "x2*w2"
n = x1w1 + x2w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()

print("forward:  n = %.4f, o = tanh(n) = %.4f" % (n.data, o.data))
print("tanh's local derivative 1 - o**2 = %.4f, so n.grad = %.4f" % (1 - o.data**2, n.grad))
print("gradients:")
for value in (x1, w1, x2, w2, b):
    print(f"  d o / d {value.label:<2} = {value.grad:+.4f}")

# The same gradients by finite differences (central difference, eps = 1e-6).
assert gradcheck(lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), [x1, w1, x2, w2, b])
print("gradcheck against finite differences: OK")

# Push n far out and tanh saturates: the same chain rule now passes almost nothing back.
w1.data = -30.0
x1.grad = w1.grad = 0.0
o_saturated = (x1 * w1 + x2 * w2 + b).tanh()
o_saturated.backward()
print("with w1 = -30: o = %.6f, 1 - o**2 = %.2e, d o / d w1 = %.2e  <- the gradient died in tanh"
      % (o_saturated.data, 1 - o_saturated.data**2, w1.grad))
