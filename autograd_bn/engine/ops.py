"""The op table: every operation the engine knows, each defined once, in one row.

A row gives the op's forward (numpy arrays in, an array out), then for each input its
vector-Jacobian product (VJP: ``g`` = dL/d(out) in, dL/d(input) out), then for each input the
local derivative d(out)/d(input) in words, which the graph prints on the backward edges.
A VJP gets ``g``, the output ``out``, the inputs ``a`` (and ``b``) and the op's settings (an
op with settings names them last in its row: ``params=("c",)``).
Where an input was broadcast, its VJP may return the broadcast shape: the engine sums it back
(`shapes.unbroadcast`). ``kernels.*`` are plain numpy with a faster path (see `kernels`).

Adding an op: add its row here and one method to `Tensor` (`tensor.py`).
"""

from __future__ import annotations

import numpy as np

from autograd_bn.engine import kernels, params, shapes
from autograd_bn.engine.op import Op
from autograd_bn.engine.params import power_text
from autograd_bn.engine.shapes import unbroadcast

# --- two tensors: Op(name, forward, vjps=(VJP for a, VJP for b), texts=(d/da, d/db)) ---------
add = Op("add", np.add,                                         # a + b
         vjps=(lambda g, out, a, b: g,  lambda g, out, a, b: g),    texts=("1", "1"))
sub = Op("sub", np.subtract,                                    # a − b
         vjps=(lambda g, out, a, b: g,  lambda g, out, a, b: -unbroadcast(g, b.shape)),
         texts=("1", "−1"))                                            # (sum first, then negate)
mul = Op("mul", np.multiply,                                    # a · b
         vjps=(lambda g, out, a, b: kernels.multiply(g, b, into=a.shape),    # g·b
               lambda g, out, a, b: kernels.multiply(g, a, into=b.shape)),   # g·a
         texts=("{b}", "{a}"))
matmul = Op("matmul", np.matmul,                     # a @ b, (stacks of) matrices; .mT: ᵀ
            vjps=(lambda g, out, a, b: g @ b.mT,                             # g·bᵀ
                  lambda g, out, a, b: a.mT @ g),                            # aᵀ·g
            texts=("{b}ᵀ", "{a}ᵀ·"))
maximum = Op("maximum", np.maximum,                             # ties: the gradient goes to a
             vjps=(lambda g, out, a, b: g * (a >= b),  lambda g, out, a, b: g * (a < b)),
             texts=("[{a}≥{b}]", "[{a}<{b}]"))

# --- a tensor and a number c (x + 2, 2 − x, x * 1.001, x / 3): c is a setting, not a node ----
add_scalar = Op("add_scalar", np.add,                 vjps=(lambda g, out, a, c: g,),
                texts=("1",),           shows="+{c:g}", params=("c",))
sub_scalar = Op("sub_scalar", np.subtract,            vjps=(lambda g, out, a, c: g,),
                texts=("1",),           shows="−{c:g}", params=("c",))
rsub_scalar = Op("rsub_scalar", lambda a, c: c - a,   vjps=(lambda g, out, a, c: -g,),
                 texts=("−1",),         shows="{c:g}−", params=("c",))
mul_scalar = Op("mul_scalar", np.multiply,            vjps=(lambda g, out, a, c: g * c,),
                texts=("{c:g}",),       shows="·{c:g}", params=("c",))
div_scalar = Op("div_scalar", np.divide,              vjps=(lambda g, out, a, c: g / c,),
                texts=("1/{c:g}",),     shows="/{c:g}", params=("c",))

# --- one tensor -------------------------------------------------------------------------------
neg = Op("neg", np.negative,
         vjps=(lambda g, out, a: -g,),                                  texts=("−1",))
pow = Op("pow", lambda a, p: kernels.power(a, p),                       # p: a number
         vjps=(lambda g, out, a, p: kernels.power_grad(g, a, p),),      # g·p·a^(p−1)
         texts=(power_text,),                      shows="p={p:g}",     params=("p",))
sqrt = Op("sqrt", np.sqrt,
          vjps=(lambda g, out, a: g * (0.5 / out),),                    # 0.5/√a = 0.5/out
          texts=("0.5/{out}",))
reciprocal = Op("reciprocal", np.reciprocal,
                vjps=(lambda g, out, a: g * -(out * out),),             # −1/a² = −out²
                texts=("−1/{a}²",))
exp = Op("exp", np.exp,
         vjps=(lambda g, out, a: g * out,),                             # eᵃ = out
         texts=("{out}",))
log = Op("log", np.log,
         vjps=(lambda g, out, a: g / a,),
         texts=("1/{a}",))
tanh = Op("tanh", np.tanh,
          vjps=(lambda g, out, a: g * (1 - out * out),),
          texts=("(1−{out}²)",))
relu = Op("relu", lambda a: np.maximum(a, 0),
          vjps=(lambda g, out, a: g * (a > 0),),                        # 0 at a = 0
          texts=("[{a}>0]",))

# --- moving numbers around: the gradient goes back where each number came from -----------------
getitem = Op("getitem", lambda a, index: a[index],                      # x[rows, cols], x[1:]
             vjps=(lambda g, out, a, index: kernels.scatter(g, index, a.shape),),  # added back
             texts=("↦ added back at [index]",),                  params=("index",))
reshape = Op("reshape", lambda a, shape: a.reshape(shape),
             vjps=(lambda g, out, a, shape: g.reshape(a.shape),),
             texts=("↦ reshaped back",),        shows="{shape}",     params=("shape",))
transpose = Op("transpose", lambda a, axes: np.transpose(a, axes),
               vjps=(lambda g, out, a, axes: np.transpose(g, np.argsort(axes)),),
               texts=("↦ transposed back",),    shows="axes={axes}", params=("axes",))

# --- reductions: axis (a tuple), keepdims, n (elements per result), kept (shape with 1s) ------
# The gradient of a sum reaches every element it added: spread back out (the seed's np.ones).
REDUCTION = params.Reduction._fields
sum = Op("sum", lambda a, axis, keepdims, n, kept: kernels.sum_axes(a, axis, keepdims),
         vjps=(lambda g, out, a, axis, keepdims, n, kept:
               kernels.spread(g.reshape(kept), a.shape),),
         texts=("1",),                                            params=REDUCTION)
mean = Op("mean", lambda a, axis, keepdims, n, kept: kernels.sum_axes(a, axis, keepdims) / n,
          vjps=(lambda g, out, a, axis, keepdims, n, kept:
                kernels.spread(g.reshape(kept) / n, a.shape),),
          texts=("1/{n}",),                                        params=REDUCTION)
max = Op("max", lambda a, axis, keepdims, n, kept: np.max(a, axis=axis, keepdims=keepdims),
         vjps=(lambda g, out, a, axis, keepdims, n, kept:                # to the first maximum
               g.reshape(kept) * shapes.first_max(a, out.reshape(kept), axis),),
         texts=("[first max]",),                                  params=REDUCTION)


ALL: tuple[Op, ...] = (add, sub, mul, matmul, maximum, add_scalar, sub_scalar, rsub_scalar,
                       mul_scalar, div_scalar, neg, pow, sqrt, reciprocal, exp, log, tanh, relu,
                       getitem, reshape, transpose, sum, mean, max)
"""Every op, in the order of the table."""
