"""The compiled training epoch and the member-stacked state it advances.

`run_epoch` is one module-level `eqx.filter_jit` function: one call trains every member of a chunk for one epoch
(`batches_per_epoch` batches: a `lax.scan` over batches, each batch a `lax.scan` over time, vmapped over the
batch windows). The model structure, the loss, the optimiser settings and the window sizes are compile-time
constants; the parameters, the scheme's forcing strengths (τ, α) and each member's learning rate, input-noise
std and regularisation weight are traced arrays with a leading member axis. Members that differ only in those
therefore share one compiled program, which JAX caches per structure and shape (no hand-made cache).

A chunk of one member runs the program without `vmap`, a chunk of c > 1 members runs it under `vmap`. `Members`
holds the population as chunks of at most `members_per_call` members: one chunk of all members (vmap, the
default), chunks of c members, or one member per call (a loop over members).

Protocol of one batch (published code: DurstewitzLab/ALRNN-DSR, GTF-shPLRNN): windows of T̃ + 1 consecutive
points, start drawn uniformly among all windows that fit inside one trajectory; x̃ = x + noise·ε (ε ~ N(0, 1),
fresh per batch) feeds z_0 and the forcing signals, the targets x stay clean; the scheme's state is updated from
the data-inferred states of x̃; loss(model, scheme, state, x̃, x) + λ·model.penalty(); one RAdam step scaled by
the epoch's learning rate (optionally after global-norm gradient clipping).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .config import lr_at

# ----------------------------------------------------------------------------------------------- data handling


def as_trajectories(data, obs_dim: int) -> list[np.ndarray]:
    """Accept a dsrkit.Dataset, a (T, N) or (B, T, N) array, or a list of (T_i, N) arrays -> list of float64."""
    if hasattr(data, "trajectories"):
        trajs = list(data.trajectories)
    elif isinstance(data, (list, tuple)):
        trajs = list(data)
    else:
        arr = np.asarray(data)
        if arr.ndim == 2:
            trajs = [arr]
        elif arr.ndim == 3:
            trajs = list(arr)
        else:
            raise ValueError(f"data must be (T, N), (B, T, N), a list of (T_i, N) arrays or a Dataset; got shape {arr.shape}")
    if not trajs:
        raise ValueError("data contains no trajectory")
    out = []
    for i, x in enumerate(trajs):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != obs_dim:
            raise ValueError(f"trajectory {i} has shape {x.shape}; expected (T, {obs_dim}) to match the model's obs_dim")
        bad = np.argwhere(~np.isfinite(x))
        if bad.size:
            raise ValueError(f"trajectory {i} contains NaN/inf at (time, dim) {bad[:5].tolist()}")
        out.append(x)
    return out


def window_table(trajs: list[np.ndarray], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate trajectories; return (flat (ΣT, N), starts) where starts lists every valid window start."""
    starts, offset = [], 0
    for x in trajs:
        n_win = len(x) - seq_len
        if n_win > 0:
            starts.append(offset + np.arange(n_win))
        offset += len(x)
    if not starts:
        raise ValueError(f"no trajectory is longer than seq_len + 1 = {seq_len + 1} points "
                         f"(lengths {[len(x) for x in trajs]}); lower seq_len")
    return np.concatenate(trajs, axis=0), np.concatenate(starts).astype(np.int32)


def member_tables(per_member: list[list[np.ndarray]], seq_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`window_table` of each member's own trajectories, stacked: (flat (k, L, N), starts (k, S), n_starts (k,)).
    Shorter tables are padded (flat with zeros, starts with 0); member i draws its windows among its own first
    n_starts[i] starts only, so the padding is never read."""
    tables = [window_table(trajs, seq_len) for trajs in per_member]
    length, count = max(len(f) for f, _ in tables), max(len(st) for _, st in tables)
    flat = np.zeros((len(tables), length, tables[0][0].shape[1]))
    starts = np.zeros((len(tables), count), np.int32)
    for i, (f, st) in enumerate(tables):
        flat[i, :len(f)], starts[i, :len(st)] = f, st
    return flat, starts, np.array([len(st) for _, st in tables], np.int32)


# ----------------------------------------------------------------------------------------------- the epoch


def make_optimizer(grad_clip):
    """RAdam with unit learning rate (the per-epoch rate multiplies its updates), optionally after clipping."""
    optimizer = optax.radam(1.0)
    if grad_clip:
        optimizer = optax.chain(optax.clip_by_global_norm(float(grad_clip)), optimizer)
    return optimizer


@dataclasses.dataclass(frozen=True)
class EpochSpec:
    """The compile-time settings of an epoch (hashable; part of the compiled program's identity).

    noisy / regularized: whether any member has input noise / a regularisation weight > 0 (when none has, the
    noise draw and the penalty are left out of the program, as a zero weight would contribute exactly nothing).
    """

    seq_len: int
    batch_size: int
    batches_per_epoch: int
    grad_clip: float | None = None
    noisy: bool = False
    regularized: bool = False


def member_epoch(params, opt_state, sstate, key_data, scheme, hyper, flat, starts, n_starts, *, static, loss, spec):
    """One member's epoch (unstacked arrays; windows start at one of the first `n_starts` entries of `starts`, all
    of them when None): returns (params, opt_state, sstate, key_data, mean loss, parameters finite, α of the scheme
    state)."""
    optimizer = make_optimizer(spec.grad_clip)
    lr, noise, reg = hyper["lr"], hyper["input_noise"], hyper["regularization"]

    def one_batch(carry, i):
        params, opt_state, sstate, key = carry
        key, k_idx, k_noise = jax.random.split(key, 3)
        s = starts[jax.random.randint(k_idx, (spec.batch_size,), 0, starts.shape[0] if n_starts is None else n_starts)]
        x = jax.vmap(lambda s0: jax.lax.dynamic_slice(flat, (s0, jnp.zeros((), s0.dtype)),
                                                      (spec.seq_len + 1, flat.shape[1])))(s)
        x_in = x + noise * jax.random.normal(k_noise, x.shape, x.dtype) if spec.noisy else x
        model = eqx.combine(params, static)
        sstate = scheme.update(sstate, model, jax.vmap(jax.vmap(model.init_state))(x_in), i)

        def objective(p):
            m = eqx.combine(p, static)
            value = loss(m, scheme, sstate, x_in, x)
            return value + reg * m.penalty() if spec.regularized else value

        value, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = eqx.apply_updates(params, jax.tree_util.tree_map(lambda u: lr * u, updates))
        return (params, opt_state, sstate, key), value

    carry = (params, opt_state, sstate, jax.random.wrap_key_data(key_data))
    (params, opt_state, sstate, key), losses = jax.lax.scan(one_batch, carry, jnp.arange(spec.batches_per_epoch))
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(params)]))
    return params, opt_state, sstate, jax.random.key_data(key), jnp.mean(losses), finite, scheme.alpha(sstate)


@eqx.filter_jit
def run_epoch(params, opt_state, sstate, key_data, scheme, hyper, flat, starts, n_starts=None, *, static, loss, spec):
    """One epoch of a chunk of c members: every argument but the data is member-stacked (leading axis c) and so is
    every output (see `member_epoch`). The data: one table shared by all members (flat (ΣT, N), starts (S,),
    n_starts None), or each member's own (`member_tables`: (c, L, N), (c, S), (c,)). c = 1 runs without vmap."""
    if n_starts is None:
        def member(p, o, s, k, sch, h):
            return member_epoch(p, o, s, k, sch, h, flat, starts, None, static=static, loss=loss, spec=spec)

        stacked = (params, opt_state, sstate, key_data, scheme, hyper)
    else:
        def member(p, o, s, k, sch, h, f, st, n):
            return member_epoch(p, o, s, k, sch, h, f, st, n, static=static, loss=loss, spec=spec)

        stacked = (params, opt_state, sstate, key_data, scheme, hyper, flat, starts, n_starts)
    if key_data.shape[0] == 1:
        out = member(*jax.tree_util.tree_map(lambda x: x[0], stacked))
        return jax.tree_util.tree_map(lambda x: x[None], out)
    return jax.vmap(member)(*stacked)


@eqx.filter_jit
def keep_where(keep, new, old):
    """Per member (leading axis): new where keep else old."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(keep.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new, old)


# ----------------------------------------------------------------------------------------------- the population


def stack(trees):
    """Stack pytrees of identical structure along a new leading (member) axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


class Members:
    """The training state of k members (parameters, optimiser and scheme states, random keys, per-member
    hyperparameters), held as chunks of at most `per_call` members, each advanced by one `run_epoch` call.

    Args:
        models: k models of one structure; scheme: the scheme stacked for k members (`schemes.members`);
        hyper: {"lr_start", "lr_end", "input_noise", "regularization"} -> (k,) float arrays; seeds: (k,) ints (the
        data and input-noise stream of member i is jax.random.key(seeds[i])); per_call: members per compiled call;
        loss, spec: as `run_epoch` takes them; flat, starts: `window_table` of the training data shared by all
        members, or with n_starts the members' own tables (`member_tables`).
    """

    def __init__(self, models, scheme, hyper, seeds, per_call: int, *, loss, spec, flat, starts, n_starts=None):
        self.k = len(models)
        template = models[0]
        self.dtype = template.dtype
        self.static = eqx.filter(template, eqx.is_inexact_array, inverse=True)
        self.loss, self.spec = loss, spec
        self.bounds = [(a, min(a + per_call, self.k)) for a in range(0, self.k, per_call)]
        self.data = [(flat, starts, None) if n_starts is None else (flat[a:b], starts[a:b], n_starts[a:b])
                     for a, b in self.bounds]
        optimizer = make_optimizer(spec.grad_clip)
        self.lr_start = np.asarray(hyper["lr_start"], np.float64)
        self.lr_end = np.asarray(hyper["lr_end"], np.float64)
        self.chunks, self.schemes, self.hyper = [], [], []
        for a, b in self.bounds:
            params = stack([eqx.filter(m, eqx.is_inexact_array) for m in models[a:b]])
            sch = jax.tree_util.tree_map(lambda x: x[a:b], scheme)
            sstate = jax.vmap(lambda s: s.init(self.dtype))(sch)
            keys = jnp.stack([jax.random.key_data(jax.random.key(int(s))) for s in seeds[a:b]])
            self.chunks.append((params, jax.vmap(optimizer.init)(params), sstate, keys))
            self.schemes.append(sch)
            self.hyper.append({name: jnp.asarray(np.asarray(hyper[name][a:b]), self.dtype)
                               for name in ("input_noise", "regularization")})
        self.alpha = np.concatenate([np.asarray(c[2]["alpha"], np.float64).reshape(-1) for c in self.chunks]) \
            if all(isinstance(c[2], dict) and "alpha" in c[2] for c in self.chunks) else np.full(self.k, np.nan)
        self._new = None

    def learning_rates(self, epoch: int, epochs: int) -> np.ndarray:
        """lr_e = lr0 · (lr1/lr0)^(e/(epochs−1)) of every member, (k,) float64."""
        return np.array([lr_at(epoch, epochs, pair) for pair in zip(self.lr_start, self.lr_end)])

    def run(self, lr: np.ndarray):
        """Train every member one epoch with learning rates lr (k,); the result waits for `accept`.
        Returns (mean losses (k,), parameters finite (k,)) as NumPy arrays."""
        self._new, losses, finite, alpha = [], [], [], []
        for (a, b), state, sch, hyper, data in zip(self.bounds, self.chunks, self.schemes, self.hyper, self.data):
            h = dict(hyper, lr=jnp.asarray(lr[a:b], self.dtype))
            out = run_epoch(*state, sch, h, *data, static=self.static, loss=self.loss, spec=self.spec)
            self._new.append(out)
        for out in self._new:  # read back after every chunk was dispatched
            losses.append(np.asarray(out[4], np.float64).reshape(-1))
            finite.append(np.asarray(out[5]).reshape(-1))
            alpha.append(np.asarray(out[6], np.float64).reshape(-1))
        self._alpha_new = np.concatenate(alpha)
        return np.concatenate(losses), np.concatenate(finite)

    def accept(self, keep: np.ndarray) -> None:
        """Take the epoch's new state for the members where `keep`; the others keep their previous state (their
        random keys advance either way)."""
        for j, ((a, b), new) in enumerate(zip(self.bounds, self._new)):
            old = self.chunks[j]
            k = keep[a:b]
            state = new[:3] if k.all() else keep_where(jnp.asarray(k), new[:3], old[:3])
            self.chunks[j] = (*state, new[3])
        self.alpha = np.where(keep, self._alpha_new, self.alpha)
        self._new = None

    def model(self, i: int):
        """Member i's model with its current parameters."""
        j = next(j for j, (a, b) in enumerate(self.bounds) if a <= i < b)
        offset = i - self.bounds[j][0]
        return eqx.combine(jax.tree_util.tree_map(lambda x: x[offset], self.chunks[j][0]), self.static)
