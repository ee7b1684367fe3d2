"""gpucnn.linalg: torch.linalg's symmetric eigendecomposition, SVD and norms.

    eigh(A, UPLO='L')               (eigenvalues, eigenvectors): ascending eigenvalues, the
                                    eigenvectors as columns, from one triangle of A
    eigvalsh(A, UPLO='L')           the eigenvalues alone
    svd(A, full_matrices=True)      (U, S, Vh): A = U diag(S) Vh, S descending
    svdvals(A)                      S alone
    vector_norm, matrix_norm, norm  torch.linalg's norms, composed of the engine's ops
                                    (matrix_norm's 'nuc', 2 and -2 through svdvals)

The decompositions are for small matrices (any batch dims in front). gpucnn has no solver
kernels: they run on the host with NumPy's LAPACK in float64 and the results are cast to
float32, so a "cuda" tensor's matrices are copied to the host and the results back. Their
gradients are PyTorch's formulas (autograd's linalg_eig_backward for symmetric input and
svd_backward), computed on the host in float64 too. As PyTorch's, they are finite only where
the eigenvalues (singular values) are distinct, and they treat an output that received no
gradient (an all-zero one) as unused, which keeps eigvalsh's and svdvals' gradients finite at
repeated values. Eigenvectors and singular vectors are unique up to sign only: LAPACK's sign
may differ from PyTorch's, as PyTorch's own differs between CPU and CUDA.
"""
import math
import numbers
from collections import namedtuple

import numpy as np

from . import dtypes
from .autograd import Function, is_grad_enabled
from .backend import backend
from .errors import InputError, InputTypeError
from .kernels import map_ops as M
from .kernels import reduce as K
from .ops import _arrays
from .ops import compare
from .ops.reduce import normalize_dims
from .tensor import Tensor

linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])


# ================================================================ decompositions on the host

def _mT(a):  # noqa: N802  (PyTorch's name: the transpose of each matrix)
    return np.swapaxes(a, -1, -2)


def _diagonal(n):
    """The index of every matrix's diagonal in a batch of n x n matrices."""
    index = np.arange(n)
    return (..., index, index)


def _skew(a):
    return a - _mT(a)


class _OnHost(Function):
    """A Function computed on the host in float64. A Function has one output, so every result
    comes back flattened into one float32 array, back to back; the public functions cut it
    into views of their shapes (their gradients land in the same array). Backward reads the
    host copies kept by forward, never the input, which may change in place afterwards."""
    saves = ()

    def host(self, array):
        return np.array(backend(self.device).to_host(array), dtype=np.float64)

    def on_device(self, *pieces):
        flat = np.concatenate([np.ravel(p) for p in pieces]) if pieces else np.empty(0)
        return backend(self.device).from_host(flat.astype(np.float32))

    def values_of(self, a):
        values = self.host(a)
        if not np.all(np.isfinite(values)):
            raise InputError(f"{self.name}: the input matrix holds non-finite values (NaN or "
                             f"inf; shape {list(values.shape)}), where the algorithm cannot "
                             f"converge")
        return values

    def wants_vectors(self, vectors):
        """Vectors are needed for the vector results, and for any gradient."""
        return vectors or (is_grad_enabled() and any(self.needs_grad))


class Eigh(_OnHost):
    """The eigendecomposition of symmetric matrices, from their lower or upper triangle."""
    name = "linalg.eigh"

    def forward(self, a, upper, vectors):
        values = self.values_of(a)
        self.vectors = vectors
        try:
            if self.wants_vectors(vectors):
                self.w, self.v = np.linalg.eigh(values, UPLO="U" if upper else "L")
            else:
                self.w = np.linalg.eigvalsh(values, UPLO="U" if upper else "L")
        except np.linalg.LinAlgError as error:
            raise InputError(f"{self.name}: {error} (input of shape {list(values.shape)})") \
                from None
        return self.on_device(self.v, self.w) if vectors else self.on_device(self.w)

    def backward(self, g):
        g = self.host(g)
        w, v = self.w, self.v
        gv = g[:v.size].reshape(v.shape) if self.vectors else None
        gw = g[v.size:].reshape(w.shape) if self.vectors else g.reshape(w.shape)
        if gv is None or not gv.any():
            ga = (v * gw[..., None, :]) @ _mT(v)   # V diag(gL) Vᵀ
        else:
            # V ((skew(Vᵀ gV) / E) with gL on the diagonal) Vᵀ, E[i, j] = L[j] - L[i]
            vtgv = _mT(v) @ gv
            vtgv = 0.5 * (vtgv - _mT(vtgv))
            gaps = w[..., None, :] - w[..., :, None]
            gaps[_diagonal(w.shape[-1])] = 1.0
            with np.errstate(divide="ignore", invalid="ignore"):
                inner = vtgv / gaps
            inner[_diagonal(w.shape[-1])] = gw
            ga = v @ inner @ _mT(v)
        return backend(self.device).from_host(ga.astype(np.float32))


class SVD(_OnHost):
    """The singular value decomposition."""
    name = "linalg.svd"

    def forward(self, a, full_matrices, vectors):
        values = self.values_of(a)
        self.vectors, self.full = vectors, full_matrices
        try:
            if self.wants_vectors(vectors):
                self.u, self.s, self.vh = np.linalg.svd(values, full_matrices=full_matrices)
            else:
                self.s = np.linalg.svd(values, compute_uv=False)
        except np.linalg.LinAlgError as error:
            raise InputError(f"{self.name}: {error} (input of shape {list(values.shape)})") \
                from None
        if vectors:
            return self.on_device(self.u, self.s, self.vh)
        return self.on_device(self.s)

    def backward(self, g):
        g = self.host(g)
        u, s, vh = self.u, self.s, self.vh
        if self.vectors:
            gu = g[:u.size].reshape(u.shape)
            gs = g[u.size:u.size + s.size].reshape(s.shape)
            gvh = g[u.size + s.size:].reshape(vh.shape)
        else:
            gu = gvh = np.zeros(0)
            gs = g.reshape(s.shape)
        k = s.shape[-1]
        if self.full:   # the columns beyond k do not depend on A smoothly; torch drops them
            u, vh = u[..., :k], vh[..., :k, :]
            if self.vectors:
                gu, gvh = gu[..., :k], gvh[..., :k, :]
        ga = svd_backward(gu if gu.any() else None, gs, gvh if gvh.any() else None, u, s, vh)
        return backend(self.device).from_host(ga.astype(np.float32))


def svd_backward(gu, gs, gvh, u, s, vh):
    """PyTorch's svd_backward for real matrices, in NumPy: the gradient of A = U diag(S) Vh
    (reduced: U (..., m, k), Vh (..., k, n)) from gU, gS, gVh (None where unused)."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:   # svdvals: U diag(gS) Vh
        return u @ (gs[..., :, None] * vh) if m >= n else (u * gs[..., None, :]) @ vh
    with np.errstate(divide="ignore", invalid="ignore"):
        squares = s * s
        gaps = squares[..., None, :] - squares[..., :, None]
        gaps[_diagonal(s.shape[-1])] = 1.0
        utgu = _skew(_mT(u) @ gu) if gu is not None else None
        vtgv = _skew(vh @ _mT(gvh)) if gvh is not None else None
        if gu is not None and gvh is not None:
            inner = (utgu * s[..., None, :] + s[..., :, None] * vtgv) / gaps
        elif gu is not None:
            inner = (utgu / gaps) * s[..., None, :]
        else:
            inner = s[..., :, None] * (vtgv / gaps)
        inner = inner + gs[..., :, None] * np.eye(s.shape[-1])
        if m > n and gu is not None:
            ga = u @ inner
            gu_sinv = gu / s[..., None, :]
            ga = (ga + gu_sinv - u @ (_mT(u) @ gu_sinv)) @ vh
        elif m < n and gvh is not None:
            ga = inner @ vh
            sinv_gvh = gvh / s[..., :, None]
            ga = u @ (ga + sinv_gvh - (sinv_gvh @ _mT(vh)) @ vh)
        else:
            ga = u @ inner @ vh
    return ga


# ================================================================ the public functions

def _matrices(op, A, square=False):  # noqa: N803  (PyTorch's argument name)
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise InputError(f"{op}: The input tensor A must have at least 2 dimensions (got "
                         f"shape {list(A.shape)}).")
    if not A.dtype.is_floating_point:
        raise InputTypeError(f"{op}: Expected a floating point tensor as input. Got "
                             f"{A.dtype.name} (shape {list(A.shape)})")
    if square and A.shape[-1] != A.shape[-2]:
        raise InputError(f"{op}: A must be batches of square matrices, but they are "
                         f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _no_out(op, out):
    if out is not None:
        raise NotImplementedError(f"{op}(out=...) is not supported; use the returned tensors")


def _upper(op, uplo):
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise InputError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {uplo!r}")
    return uplo.upper() == "U"


def _pieces(packed, *shapes):
    """Views of the packed output, one per shape, back to back."""
    views, start = [], 0
    for shape in shapes:
        count = math.prod(shape)
        views.append(packed[start:start + count].view(shape))
        start += count
    return views


def eigh(A, UPLO="L", *, out=None):  # noqa: N803
    """The eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices, read
    from their lower (UPLO='L') or upper ('U') triangle; a namedtuple (eigenvalues,
    eigenvectors). Computed on the host in float64 (see the module's docstring)."""
    _matrices("linalg.eigh", A, square=True)
    _no_out("linalg.eigh", out)
    packed = Eigh.apply(A, upper=_upper("linalg.eigh", UPLO), vectors=True)
    vectors, values = _pieces(packed, tuple(A.shape), tuple(A.shape[:-1]))
    return linalg_eigh(values, vectors)


def eigvalsh(A, UPLO="L", *, out=None):  # noqa: N803
    """The eigenvalues of symmetric matrices (ascending), as eigh's, without the vectors."""
    _matrices("linalg.eigvalsh", A, square=True)
    _no_out("linalg.eigvalsh", out)
    return Eigh.apply(A, upper=_upper("linalg.eigvalsh", UPLO),
                      vectors=False).view(A.shape[:-1])


def _no_driver(op, driver):
    if driver is not None:
        raise NotImplementedError(f"{op}: driver= is not supported (gpucnn computes the SVD "
                                  f"on the host with NumPy's LAPACK); leave it None")


def svd(A, full_matrices=True, *, driver=None, out=None):  # noqa: N803
    """A = U diag(S) Vh; a namedtuple (U, S, Vh), S descending. full_matrices=True gives
    square U (m, m) and Vh (n, n), False the reduced U (m, k) and Vh (k, n), k = min(m, n).
    Computed on the host in float64 (see the module's docstring)."""
    _matrices("linalg.svd", A)
    _no_out("linalg.svd", out)
    _no_driver("linalg.svd", driver)
    *batch, m, n = A.shape
    k = min(m, n)
    u_cols, vh_rows = (m, n) if full_matrices else (k, k)
    packed = SVD.apply(A, full_matrices=bool(full_matrices), vectors=True)
    return linalg_svd(*_pieces(packed, (*batch, m, u_cols), (*batch, k), (*batch, vh_rows, n)))


def svdvals(A, *, driver=None, out=None):  # noqa: N803
    """The singular values of A, descending, as svd's S."""
    _matrices("linalg.svdvals", A)
    _no_out("linalg.svdvals", out)
    _no_driver("linalg.svdvals", driver)
    *batch, m, n = A.shape
    return SVD.apply(A, full_matrices=False, vectors=False).view(*batch, min(m, n))


# ================================================================ norms

def _float_input(op, x, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise InputTypeError(f"{op}: Expected a floating point tensor as input. Got "
                             f"{x.dtype.name} (shape {list(x.shape)})")
    return x if dtype is None else x.to(dtypes.resolve(dtype, op))


def _nonzero_or_zero(s, f):
    """f(s) where s != 0, else 0, with a zero (not NaN) gradient where s == 0, as PyTorch's
    norm gradients: f runs on s with its zeros replaced by ones, so no inf meets a zero."""
    zero = s == 0
    safe = compare.where(zero, s.new_ones(()), s)
    return compare.where(zero, s.new_zeros(()), f(safe))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    """The ord-norm of x over `dim` (all dims when None or empty): (sum |x|^ord)^(1/ord);
    inf and -inf the largest and smallest |x|, 0 the count of nonzeros. Gradients are
    PyTorch's, zero where the norm is zero."""
    op = "linalg.vector_norm"
    x = _float_input(op, x, dtype)
    _no_out(op, out)
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise TypeError(f"{op}(): argument 'ord' must be a number, not {type(ord).__name__} "
                        f"(matrix orders such as 'fro' and 'nuc' are matrix_norm's)")
    ord = float(ord)
    if x.ndim == 0:   # a 0-dim tensor is one element, whatever dim and keepdim say
        normalize_dims(x, dim, op)
        return vector_norm(x.reshape(1), ord, 0, False)
    dims = normalize_dims(x, None if dim is None or (isinstance(dim, (tuple, list)) and
                                                     not dim) else dim, op)
    if ord < 0 or math.isinf(ord):
        for d in dims:
            if x.shape[d] == 0:
                raise InputError(f"{op} cannot compute the {ord:g} norm on the dimension {d} "
                                 f"because this dimension is empty and the operation does not "
                                 f"have an identity (shape {list(x.shape)})")
    if ord == 2:
        return _nonzero_or_zero((x * x).sum(dims, keepdim), lambda s: s.sqrt())
    if ord == 0:
        return NonzeroCount.apply(x, dims=dims, keepdim=bool(keepdim))
    magnitude = x.abs()
    if ord == math.inf:
        return magnitude.amax(dims, keepdim)
    if ord == -math.inf:
        return magnitude.amin(dims, keepdim)
    if ord == 1:
        return magnitude.sum(dims, keepdim)
    if 0 < ord < 1:
        powers = _nonzero_or_zero(magnitude, lambda a: a ** ord)
    else:
        powers = magnitude ** ord
    return _nonzero_or_zero(powers.sum(dims, keepdim), lambda s: s ** (1.0 / ord))


class NonzeroCount(Function):
    """The number of nonzero elements over dims, as a float: the 0-"norm". Its gradient is
    undefined, as PyTorch's (x.grad stays None)."""
    name, saves = "linalg.vector_norm", ()

    def forward(self, x, dims, keepdim):
        k = self.kernels
        nonzero = _arrays.compare(k, M.C_NE, x, _arrays.full(k, (), 0.0))
        count = _arrays.reduce(k, K.R_SUM, _arrays.cast(k, nonzero, np.float32), dims)
        shape = [1 if d in dims else n for d, n in enumerate(x.shape) if keepdim or d not in dims]
        return _arrays.reshape_contiguous(count, shape)

    def backward(self, g):
        return None


def _matrix_dims(op, A, dim):  # noqa: N803
    _matrices(op, A)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise InputError(f"{op}: dim must be a 2-tuple. Got {dim!r}")
    rows, cols = (A._dim(d, op) for d in dim)
    if rows == cols:
        raise InputError(f"{op}: dims must be different. Got ({rows}, {cols})")
    return rows, cols


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None,  # noqa: N803,A002
                out=None):
    """The matrix norm of A over the two dims `dim`: 'fro' (the 2-norm of the elements), 'nuc'
    (the sum of the singular values), 2 / -2 (the largest / smallest singular value), 1 / -1
    (the largest / smallest column sum of |A|), inf / -inf (the same for rows)."""
    op = "linalg.matrix_norm"
    rows, cols = _matrix_dims(op, A, dim)
    A = _float_input(op, A, dtype)   # noqa: N806
    _no_out(op, out)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord != "nuc" and not (isinstance(ord, numbers.Real) and abs(ord) in (1, 2, math.inf)):
        raise InputError(f"{op}: Order {ord} not supported.")
    if ord == "nuc" or abs(ord) == 2:
        others = [d for d in range(A.ndim) if d not in (rows, cols)]
        values = svdvals(A.permute(*others, rows, cols))
        result = values.sum(-1) if ord == "nuc" else \
            _largest(values, -1, False) if ord > 0 else values.amin(-1)
        if keepdim:
            for d in sorted((rows, cols)):
                result = result.unsqueeze(d)
        return result
    if math.isinf(ord):   # the inf norm is the 1 norm of the transpose
        rows, cols = cols, rows
    if not keepdim and rows < cols:
        cols -= 1
    sums = A.abs().sum(rows, keepdim)
    return _largest(sums, cols, keepdim) if ord > 0 else sums.amin(cols, keepdim)


def _largest(t, dim, keepdim):
    """t.amax(dim), and 0 over an empty dim (a norm of an empty matrix is 0, as in torch;
    the smallest has no such value, and amin raises there as torch's does)."""
    if t.shape[dim] == 0:
        shape = list(t.shape)
        shape[dim] = 1
        zeros = t.new_zeros(shape)
        return zeros if keepdim else zeros.squeeze(dim)
    return t.amax(dim, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: N803,A002
    """torch.linalg.norm: a vector norm over an int dim (or of the flattened tensor when dim
    and ord are None), a matrix norm over a 2-tuple dim (or of a 2-D A when ord is given)."""
    op = "linalg.norm"
    _no_out(op, out)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise InputError(f"{op}: If dim is specified, it must be of length 1 or 2. Got "
                         f"{list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    ndim = getattr(A, "ndim", None)
    if ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if ndim in (1, 2):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise InputError(f"{op}: If dim is not specified but ord is, the input must be 1D or 2D. "
                     f"Got {ndim}D.")
