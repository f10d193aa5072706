"""Tests of dsrkit.analysis: fixed points and cycles against brute-force enumeration, hand-built examples with
known answers, symbolic dynamics and entropy rates."""

import itertools

import numpy as np
import pytest

from dsrkit.analysis import (
    alrnn_pieces,
    classify_eigenvalues,
    cycles,
    entropy_rate,
    fixed_points,
    frequent_words,
    markov_entropy_rate,
    symbolic_sequence,
    transition_graph,
)

# ------------------------------------------------------------------------------------------------------------
# independent brute force: every region sequence, parameters used directly (not through the library)


def _relu_step(a, W, h, P, z):
    """AL-RNN step (PLRNN when P == M), written from the definition: a*z + W phi(z) + h."""
    M = a.size
    phi = z.copy()
    phi[..., M - P :] = np.maximum(z[..., M - P :], 0.0)
    return a * z + phi @ W.T + h


def brute_force_cycles(a, W, h, P, k):
    """All k-cycles of minimal period k of an AL-RNN, as a list of (k, M) point arrays (one rotation each)."""
    M = a.size
    regions = list(itertools.product([0, 1], repeat=P))
    slopes = np.array([np.concatenate([np.ones(M - P), r]) for r in regions])  # (R, M)
    mats = np.diag(a)[None] + W[None] * slopes[:, None, :]  # (R, M, M): J = A + W diag(phi')
    seqs = np.array(list(itertools.product(range(len(regions)), repeat=k)))  # (S, k)
    Jt = np.broadcast_to(np.eye(M), (len(seqs), M, M)).copy()
    ct = np.zeros((len(seqs), M))
    for i in range(k):
        Ji = mats[seqs[:, i]]
        Jt = Ji @ Jt
        ct = np.einsum("sij,sj->si", Ji, ct) + h
    lhs = np.eye(M)[None] - Jt
    ok = np.abs(np.linalg.det(lhs)) > 1e-10
    z = np.full((len(seqs), M), np.nan)
    z[ok] = np.linalg.solve(lhs[ok], ct[ok][..., None])[..., 0]
    # orbit of each candidate under the true step, all sequences at once
    pts = np.empty((len(seqs), k, M))
    pts[:, 0] = z
    for i in range(1, k):
        pts[:, i] = _relu_step(a, W, h, P, pts[:, i - 1])
    region_bits = np.array(regions, dtype=int).reshape(len(regions), P)
    in_claimed = np.all((pts[..., M - P :] > 0) == region_bits[seqs], axis=(1, 2))
    closes = np.abs(_relu_step(a, W, h, P, pts[:, -1]) - pts[:, 0]).max(axis=1) <= 1e-8 * (
        1 + np.abs(pts).max(axis=(1, 2)))
    found = []
    for s in np.flatnonzero(ok & in_claimed & closes):
        if any(np.allclose(pts[s], np.roll(pts[s], -p, axis=0), atol=1e-9) for p in range(1, k) if k % p == 0):
            continue  # minimal period smaller than k
        if not any(_same_cycle(pts[s], f) for f in found):
            found.append(pts[s])
    return found


def _same_cycle(p, q, atol=1e-7):
    return p.shape == q.shape and any(np.allclose(np.roll(p, s, axis=0), q, atol=atol) for s in range(len(p)))


def _assert_same_sets(found, reference, label):
    assert len(found) == len(reference), f"{label}: found {len(found)} cycles, brute force {len(reference)}"
    for ref in reference:
        assert any(_same_cycle(c.points, ref) for c in found), f"{label}: brute-force cycle {ref} not found"


def _assert_verified(cyc, a, W, h, P):
    """The points map to each other under the true step and lie in their claimed regions."""
    M = a.size
    nxt = _relu_step(a, W, h, P, cyc.points)
    assert np.allclose(nxt, np.roll(cyc.points, -1, axis=0), atol=1e-8 * (1 + np.abs(cyc.points).max()))
    assert np.array_equal((cyc.points[:, M - P :] > 0).astype(np.int8), cyc.codes)
    assert cyc.period == len(cyc.points)


def _random_model(seed):
    """Random PLRNN (even seeds; W off-diagonal) or AL-RNN (odd seeds) with M <= 8, P <= 8."""
    rng = np.random.default_rng(seed)
    M = int(rng.integers(2, 9))
    P = M if seed % 2 == 0 else int(rng.integers(1, M + 1))
    a = rng.uniform(-0.95, 0.95, M)
    W = rng.normal(0.0, rng.uniform(0.8, 2.0), (M, M)) / np.sqrt(M)
    if P == M:
        np.fill_diagonal(W, 0.0)
    h = rng.normal(0.0, 1.0, M)
    return a, W, h, P


# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", range(4))
def test_fixed_points_and_2cycles_equal_brute_force_on_random_models(block):
    """On 100 random PLRNN/AL-RNN models (M <= 8) the fixed points (exhaustive and SCYFI) and 2-cycles
    (exhaustive and SCYFI) equal the brute-force enumeration; catches missed or spurious solutions, wrong
    region maps, wrong period filtering and wrong deduplication. Tolerance 1e-7 on points."""
    n_fp = n_c2 = 0
    for seed in range(25 * block, 25 * block + 25):
        a, W, h, P = _random_model(seed)
        pieces = alrnn_pieces(a, W, h, P)
        ref1 = brute_force_cycles(a, W, h, P, 1)
        _assert_same_sets(fixed_points(pieces), ref1, f"seed {seed} fixed points")
        _assert_same_sets(cycles(pieces, 1, method="scyfi", seed=seed), ref1, f"seed {seed} SCYFI k=1")
        ref2 = brute_force_cycles(a, W, h, P, 2)
        if P <= 6:  # the library's exhaustive search (cheap up to 2^12 sequences)
            _assert_same_sets(cycles(pieces, 2, method="exhaustive"), ref2, f"seed {seed} exhaustive 2-cycles")
        sc2 = cycles(pieces, 2, method="scyfi", seed=seed)
        _assert_same_sets(sc2, ref2, f"seed {seed} SCYFI 2-cycles")
        for c in fixed_points(pieces) + sc2:
            _assert_verified(c, a, W, h, P)
        n_fp += len(ref1)
        n_c2 += len(sc2)
    assert n_fp > 10 and n_c2 > 0  # the sample is not trivially empty


def tent_alrnn():
    """AL-RNN (M = 2, P = 1): z1' = 0.5 z1 + 1 (linear unit), z2' = 1 + 2 z2 - 4 relu(z2) = 1 - 2|z2| (tent).

    Known: fixed points (2, 1/3) and (2, -1); one 2-cycle {3/5, -1/5}; two 3-cycles {1/7, 5/7, -3/7} (codes
    1,1,0) and {7/9, -5/9, -1/9} (codes 1,0,0), all with z1 = 2.
    """
    return np.array([0.5, 2.0]), np.array([[0.0, 0.0], [0.0, -4.0]]), np.array([1.0, 1.0]), 1


@pytest.mark.parametrize("method", ["exhaustive", "scyfi"])
def test_hand_built_alrnn_fixed_points_and_3_cycles_recovered_exactly(method):
    """Exact recovery (1e-12) of the analytic fixed points, 2-cycle and 3-cycles of the tent AL-RNN, their
    eigenvalues and stability types; catches wrong composition order of the affine maps."""
    a, W, h, P = tent_alrnn()
    pieces = alrnn_pieces(a, W, h, P)
    fps = cycles(pieces, 1, method=method, seed=1)
    assert sorted(round(f.points[0, 1], 12) for f in fps) == [-1.0, round(1 / 3, 12)]
    for f in fps:
        assert np.isclose(f.points[0, 0], 2.0, atol=1e-12)
        assert f.type == "saddle node"
    c2 = cycles(pieces, 2, method=method, seed=1)
    assert len(c2) == 1 and _same_cycle(c2[0].points[:, 1:], np.array([[3 / 5], [-1 / 5]]), atol=1e-12)
    c3 = cycles(pieces, 3, method=method, seed=1)
    expected = {
        (0, 1, 1): (np.array([-3 / 7, 1 / 7, 5 / 7]), 8.0),
        (0, 0, 1): (np.array([-5 / 9, -1 / 9, 7 / 9]), -8.0),
    }
    assert len(c3) == 2
    for c in c3:
        z2, lam = expected[tuple(int(x) for x in c.codes[:, 0])]
        np.testing.assert_allclose(c.points[:, 1], z2, atol=1e-12)
        np.testing.assert_allclose(c.points[:, 0], 2.0, atol=1e-12)
        np.testing.assert_allclose(np.sort_complex(c.eigenvalues), np.sort_complex(np.array([0.125, lam])), atol=1e-12)
        assert c.period == 3 and c.stability == "saddle" and not c.complex
        d = c.to_dict()
        assert d["period"] == 3 and len(d["points"]) == 3 and d["type"] == "saddle node"


def test_hand_built_model_through_the_model_contract(x64):
    """The same tent AL-RNN built as dsrkit.models.ALRNN (float64, its arrays made by the test: `x64` fixture)
    gives the same fixed points and 3-cycles: checks the wiring through region_code / region_affine / __call__."""
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")
    from dsrkit.models import ALRNN

    a, W, h, P = tent_alrnn()
    model = ALRNN(1, 2, 1, key=jax.random.key(0), dtype=np.float64)
    model = eqx.tree_at(lambda m: (m.A, m.W, m.h), model, (jax.numpy.asarray(a), jax.numpy.asarray(W), jax.numpy.asarray(h)))
    ref = alrnn_pieces(a, W, h, P)
    for k in (1, 2, 3):
        got, want = cycles(model, k, method="exhaustive"), cycles(ref, k, method="exhaustive")
        _assert_same_sets(got, [c.points for c in want], f"model contract k={k}")


def test_scyfi_is_reproducible_and_excludes_lower_periods():
    """Same seed -> same cycles; no reported 2-cycle or 4-cycle is a fixed point or a 2-cycle traversed twice."""
    a, W, h, P = tent_alrnn()
    pieces = alrnn_pieces(a, W, h, P)
    r1 = cycles(pieces, 4, method="scyfi", seed=3)
    r2 = cycles(pieces, 4, method="scyfi", seed=3)
    assert [c.code_strings for c in r1] == [c.code_strings for c in r2]
    for c in r1:
        assert not np.allclose(c.points, np.roll(c.points, -2, axis=0))
    # the tent map has (2^4 - 2^2) / 4 = 3 cycles of minimal period 4
    assert len(cycles(pieces, 4, method="exhaustive")) == 3


def test_classify_eigenvalues():
    """Stability types from eigenvalue moduli and complexness."""
    assert classify_eigenvalues(np.array([0.9 * np.exp(0.3j), 0.9 * np.exp(-0.3j)])) == ("stable", True)
    assert classify_eigenvalues(np.array([0.5, -0.2])) == ("stable", False)
    assert classify_eigenvalues(np.array([1.5, 0.2])) == ("saddle", False)
    assert classify_eigenvalues(np.array([1.5, -3.0])) == ("unstable", False)
    assert classify_eigenvalues(np.array([1.0, 0.2]))[0] == "non-hyperbolic"


def test_stable_focus_is_found_and_typed():
    """A linear region rotating and contracting around its fixed point (0.9 * rotation by 0.5 rad) yields a
    "stable focus" whose eigenvalues have modulus 0.9."""
    th = 0.5
    R = 0.9 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    # AL-RNN with P = 1 on a third unit that stays negative: z3' = 0.1 z3 - 1 -> z3* = -10/9
    a = np.array([0.0, 0.0, 0.1])
    W = np.zeros((3, 3))
    W[:2, :2] = R
    h = np.array([1.0, 0.5, -1.0])
    fps = fixed_points(alrnn_pieces(a, W, h, 1))
    assert len(fps) == 1 and fps[0].type == "stable focus"
    np.testing.assert_allclose(np.sort(np.abs(fps[0].eigenvalues))[-2:], 0.9, atol=1e-12)
    np.testing.assert_allclose(fps[0].points[0, :2], np.linalg.solve(np.eye(2) - R, h[:2]), atol=1e-12)


def test_cycles_rejects_bad_arguments():
    pieces = alrnn_pieces(*tent_alrnn())
    with pytest.raises(ValueError, match="positive integer"):
        cycles(pieces, 0)
    with pytest.raises(ValueError, match="method"):
        cycles(pieces, 2, method="newton")
    with pytest.raises(TypeError, match="piecewise-linear model"):
        fixed_points(object())
    with pytest.raises(ValueError, match="shape"):
        alrnn_pieces(np.ones(3), np.ones((2, 2)), np.ones(2), 1)


# ------------------------------------------------------------------------------------------------------------
# symbolic dynamics


def test_symbolic_graph_of_hand_built_sequence():
    """Sequence A A B C A A B C A A with A = 11, B = 01, C = 00: labels by frequency (A = 0; tie B/C broken
    by code order: C = 1, B = 2); edges A->A 3/5, A->B 2/5, B->C 1, C->A 1; node maps J, c of the region."""
    A, B, C = (1, 1), (0, 1), (0, 0)
    codes = np.array([A, A, B, C, A, A, B, C, A, A])
    seq = symbolic_sequence(codes)
    assert seq.n_regions == 3 and seq.code_strings == ["11", "00", "01"]
    assert seq.counts.tolist() == [6, 2, 2]
    assert seq.symbols.tolist() == [0, 0, 2, 1, 0, 0, 2, 1, 0, 0]
    a, W, h = np.array([0.5, -0.3]), np.array([[0.0, 1.0], [2.0, 0.0]]), np.array([0.1, 0.2])
    G = transition_graph(seq, alrnn_pieces(a, W, h, 2))
    assert set(G.nodes) == {0, 1, 2}
    probs = {(i, j): d["probability"] for i, j, d in G.edges(data=True)}
    assert probs == pytest.approx({(0, 0): 0.6, (0, 2): 0.4, (2, 1): 1.0, (1, 0): 1.0}, abs=1e-15)
    assert G.nodes[1]["code"] == "00" and G.nodes[0]["frequency"] == pytest.approx(0.6)
    np.testing.assert_array_equal(G.nodes[0]["J"], np.diag(a) + W)  # region 11: both relus active
    np.testing.assert_array_equal(G.nodes[1]["J"], np.diag(a))  # region 00: only the diagonal
    np.testing.assert_array_equal(G.nodes[2]["c"], h)
    expected_h = -(3 / 9 * np.log(3 / 5) + 2 / 9 * np.log(2 / 5))
    assert G.graph["entropy_rate"] == pytest.approx(expected_h, abs=1e-14)


def test_transition_graph_builds_the_code_strings_once(monkeypatch):
    """Regression: the node loop read `seq.code_strings[i]`, a property that builds all K strings on every access,
    so the graph cost K^2 x n_switch (an shPLRNN with 150 hidden units visiting 4820 subregions: 510 s of
    analysis). The strings must be built once per graph, whatever K, and still label the nodes."""
    from dsrkit.analysis.symbolic import SymbolicSequence

    calls = []
    original = SymbolicSequence.code_strings.fget
    monkeypatch.setattr(SymbolicSequence, "code_strings", property(lambda self: calls.append(1) or original(self)))
    rng = np.random.default_rng(0)
    seq = symbolic_sequence(rng.integers(0, 2, size=(400, 12)))
    G = transition_graph(seq)
    assert seq.n_regions > 100 and len(calls) == 1
    assert [G.nodes[i]["code"] for i in range(seq.n_regions)] == original(seq)


def test_entropy_rate_of_known_markov_chain():
    """Exact formula on P = [[.5, .5], [1, 0]] (pi = (2/3, 1/3), H = (2/3) ln 2), and the plug-in estimate from
    2e5 simulated steps of a 3-state chain within 0.01 nats of the exact rate (statistical error ~0.002)."""
    assert markov_entropy_rate(np.array([[0.5, 0.5], [1.0, 0.0]])) == pytest.approx(2 / 3 * np.log(2), abs=1e-14)
    assert markov_entropy_rate(np.array([[0.5, 0.5], [1.0, 0.0]]), base=2) == pytest.approx(2 / 3, abs=1e-14)
    P = np.array([[0.9, 0.1, 0.0], [0.0, 0.5, 0.5], [0.3, 0.3, 0.4]])
    rng = np.random.default_rng(0)
    T = 200_000
    u = rng.random(T)
    cum = np.cumsum(P, axis=1)
    s = np.empty(T, dtype=np.int64)
    s[0] = 0
    for t in range(1, T):
        s[t] = np.searchsorted(cum[s[t - 1]], u[t])
    assert entropy_rate(s) == pytest.approx(markov_entropy_rate(P), abs=0.01)
    assert entropy_rate(np.zeros(50, dtype=int)) == 0.0


def test_frequent_words():
    s = [0, 1, 0, 1, 0, 2]
    assert frequent_words(s, 2) == [((0, 1), 2), ((1, 0), 2), ((0, 2), 1)]
    assert frequent_words(s, 7) == []
    with pytest.raises(ValueError):
        frequent_words(s, 0)
