"""RL formulas (sheet section 7) against independent references: a brute-force value-iteration
loop, exact linear solves of the Bellman equations, torch autograd SGD steps, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "rl"


def random_mdp(seed, states, actions):
    rng = np.random.default_rng(seed)
    P = rng.random((states, actions, states)) + 0.01
    P /= P.sum(-1, keepdims=True)
    R = rng.normal(size=(states, actions))
    return rng, P, R


mdp = st.tuples(st.integers(0, 10_000), st.integers(1, 5), st.integers(1, 4))


@given(mdp, st.floats(0.0, 0.99))
def test_bellman_optimality_backup_matches_loop(device, spec, gamma):
    rng, P, R = random_mdp(*spec)
    V = rng.normal(size=P.shape[0])
    backed = formulas.get("bellman-optimality-backup").evaluate(P=P, R=R, gamma=gamma, V=V)
    assert backed.dtype == np.float64 and backed.shape == V.shape
    Pt, Rt, Vt = (torch.tensor(a, device=device) for a in (P, R, V))
    for s in range(P.shape[0]):  # the direct way: a loop over actions and successors
        best = max(
            float(Rt[s, a] + gamma * sum(Pt[s, a, t] * Vt[t] for t in range(P.shape[0])))
            for a in range(P.shape[1])
        )
        assert backed[s] == pytest.approx(best, abs=1e-12)


@given(mdp, st.floats(0.1, 0.95))
def test_value_iteration_reaches_best_deterministic_policy(device, spec, gamma):
    rng, P, R = random_mdp(*spec)
    backup = formulas.get("bellman-optimality-backup")
    V = np.zeros(P.shape[0])
    for _ in range(2000):
        V = backup.evaluate(P=P, R=R, gamma=gamma, V=V)
    Pt, Rt = torch.tensor(P, device=device), torch.tensor(R, device=device)
    best = torch.full((P.shape[0],), -np.inf, dtype=torch.float64, device=device)
    eye = torch.eye(P.shape[0], dtype=torch.float64, device=device)
    for choice in np.ndindex(*(P.shape[1],) * P.shape[0]):
        idx = torch.tensor(choice, device=device)
        P_pi = Pt[torch.arange(P.shape[0]), idx]
        r_pi = Rt[torch.arange(P.shape[0]), idx]
        best = torch.maximum(best, torch.linalg.solve(eye - gamma * P_pi, r_pi))
    np.testing.assert_allclose(V, best.cpu().numpy(), atol=1e-8)
    greedy = formulas.get("greedy-policy").evaluate(P=P, R=R, gamma=gamma, V=V)
    q = R + gamma * P @ V
    np.testing.assert_allclose(q[np.arange(len(V)), greedy], q.max(1), atol=0)


@given(mdp, st.floats(0.0, 0.95))
def test_bellman_expectation_fixed_point_is_linear_solve(device, spec, gamma):
    rng, P, R = random_mdp(*spec)
    policy = rng.random(R.shape) + 0.01
    policy /= policy.sum(1, keepdims=True)
    P_pi = torch.tensor(np.einsum("sa,sat->st", policy, P), device=device)
    r_pi = torch.tensor((policy * R).sum(1), device=device)
    v = (
        torch.linalg.solve(
            torch.eye(len(r_pi), dtype=torch.float64, device=device) - gamma * P_pi, r_pi
        )
        .cpu()
        .numpy()
    )
    backed = formulas.get("bellman-expectation").evaluate(P=P, R=R, gamma=gamma, policy=policy, V=v)
    np.testing.assert_allclose(backed, v, atol=1e-10)


@given(st.integers(0, 1000), st.integers(1, 12), st.floats(0.0, 1.0))
def test_discounted_return_brute_force(device, seed, length, gamma):
    rewards = np.random.default_rng(seed).normal(size=(2, length))
    G = formulas.get("discounted-return").evaluate(rewards=rewards, gamma=gamma)
    r = torch.tensor(rewards, device=device)
    for t in range(length):
        direct = sum(gamma**k * r[:, t + k] for k in range(length - t))
        np.testing.assert_allclose(G[:, t], direct.cpu().numpy(), atol=1e-12)


def _sgd_table_step(table, index, target, alpha, device):
    """Semi-gradient TD as autograd: one SGD step on 1/2 (target - Q[index])^2, target detached."""
    param = torch.tensor(table, device=device, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=alpha)
    loss = 0.5 * (target(param).detach() - param[index]) ** 2
    loss.backward()
    optimizer.step()
    return param.detach().cpu().numpy()


@given(st.integers(0, 1000), st.floats(0.0, 0.99), st.floats(0.01, 1.0))
def test_td_sarsa_q_learning_are_semi_gradient_sgd(device, seed, gamma, alpha):
    rng = np.random.default_rng(seed)
    S, A = 4, 3
    V, Q = rng.normal(size=S), rng.normal(size=(S, A))
    s, s2, a, a2 = (int(x) for x in rng.integers(0, 3, 4))
    r = float(rng.normal())
    td = formulas.get("td0-update").evaluate(V=V, s=s, r=r, s_next=s2, gamma=gamma, alpha=alpha)
    ref = _sgd_table_step(V, s, lambda p: r + gamma * p[s2], alpha, device)
    np.testing.assert_allclose(td, ref, atol=1e-12)
    sarsa = formulas.get("sarsa-update").evaluate(
        Q=Q, s=s, a=a, r=r, s_next=s2, a_next=a2, gamma=gamma, alpha=alpha
    )
    ref = _sgd_table_step(Q, (s, a), lambda p: r + gamma * p[s2, a2], alpha, device)
    np.testing.assert_allclose(sarsa, ref, atol=1e-12)
    ql = formulas.get("q-learning-update").evaluate(
        Q=Q, s=s, a=a, r=r, s_next=s2, gamma=gamma, alpha=alpha
    )
    ref = _sgd_table_step(Q, (s, a), lambda p: r + gamma * p[s2].max(), alpha, device)
    np.testing.assert_allclose(ql, ref, atol=1e-12)


@given(st.integers(0, 1000), st.integers(1, 6), st.integers(2, 5), st.floats(0.0, 0.99))
def test_dqn_loss_against_torch_and_gradient_path(device, seed, batch, actions, gamma):
    rng = np.random.default_rng(seed)
    q, q_next = rng.normal(size=(2, batch, actions))
    action = rng.integers(0, actions, batch)
    reward, done = rng.normal(size=batch), rng.integers(0, 2, batch).astype(float)
    loss = formulas.get("dqn-loss").evaluate(
        q=q, action=action, reward=reward, q_next=q_next, gamma=gamma, done=done
    )
    assert loss.dtype == np.float64 and loss.shape == (batch,)
    qt = torch.tensor(q, device=device, requires_grad=True)
    qn = torch.tensor(q_next, device=device, requires_grad=True)
    target = (
        torch.tensor(reward, device=device)
        + gamma * torch.tensor(1 - done, device=device) * qn.max(-1).values.detach()
    )
    chosen = qt.gather(1, torch.tensor(action, device=device)[:, None])[:, 0]
    ref = torch.nn.functional.mse_loss(chosen, target, reduction="none")
    np.testing.assert_allclose(loss, ref.detach().cpu().numpy(), atol=1e-12)
    ref.sum().backward()
    assert qn.grad is None  # backprop only through Q_theta(S, A)
    assert int((qt.grad != 0).sum()) <= batch


@given(st.integers(0, 1000), st.floats(-2.0, 2.0))
def test_reinforce_is_unbiased_monte_carlo(device, seed, baseline):
    rng = np.random.default_rng(seed)
    logits = torch.tensor(rng.normal(size=4), device=device, requires_grad=True)
    reward_table = torch.tensor(rng.normal(size=4), device=device)
    exact = torch.autograd.grad((torch.softmax(logits, 0) * reward_table).sum(), logits)[0]
    probs = torch.softmax(logits, 0).detach().cpu().numpy()
    actions = rng.choice(4, size=40_000, p=probs)
    rewards = reward_table.cpu().numpy()[actions]
    estimate = formulas.get("reinforce-gradient").evaluate(
        logits=logits.detach().cpu().numpy(), actions=actions, rewards=rewards, baseline=baseline
    )
    # standard error of a mean of 40k bounded terms (|score * (r - b)| < ~8): < 0.05 at 5 sigma
    np.testing.assert_allclose(estimate, exact.cpu().numpy(), atol=0.05)


@given(mdp, st.floats(0.0, 0.95))
def test_actor_critic_td_advantage_estimates_q_minus_v(device, spec, gamma):
    rng, P, R = random_mdp(*spec)
    policy = rng.random(R.shape) + 0.01
    policy /= policy.sum(1, keepdims=True)
    S = P.shape[0]
    P_pi = np.einsum("sa,sat->st", policy, P)
    v = np.linalg.solve(np.eye(S) - gamma * P_pi, (policy * R).sum(1))
    q = R + gamma * P @ v
    advantage = formulas.get("actor-critic-advantage")
    expected = np.zeros_like(R)
    for s2 in range(S):  # expectation over the sampled successor
        expected += P[:, :, s2] * advantage.evaluate(
            reward=R, value=v[:, None], next_value=v[s2], gamma=gamma
        )
    np.testing.assert_allclose(expected, q - v[:, None], atol=1e-10)


def test_contract_bellman_optimality_backup_keywords():
    f = formulas.get("bellman-optimality-backup")
    assert f.parameters == ["P", "R", "gamma", "V"]
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0
    out = f.evaluate(P=P, R=np.array([[1.0, 2.0], [0.0, -1.0]]), gamma=0.5, V=np.array([2.0, 9.0]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [3.0, 1.0])


@given(mdp, st.floats(0.1, 0.95), st.integers(0, 30))
def test_value_iteration_geometric_rate(device, spec, gamma, k):
    rng, P, R = random_mdp(*spec)
    V0 = rng.normal(size=P.shape[0]) * 3
    Vk = formulas.get("value-iteration").evaluate(P=P, R=R, gamma=gamma, V=V0, iterations=k)
    Pt, Rt = torch.tensor(P, device=device), torch.tensor(R, device=device)
    V = torch.tensor(V0, device=device)
    for _ in range(k):  # the direct loop
        V = (Rt + gamma * Pt @ V).max(dim=1).values
    np.testing.assert_allclose(Vk, V.cpu().numpy(), atol=1e-12)
    v_star = formulas.get("value-iteration").evaluate(P=P, R=R, gamma=gamma, V=V0, iterations=3000)
    assert np.abs(Vk - v_star).max() <= gamma**k * np.abs(V0 - v_star).max() + 1e-9


# --------------------------------------------------------------------------------------------
# proofs and claims (issue 10, 11)


def test_every_rl_formula_is_proved_or_an_honest_label():
    from formulas.proof import prove

    for formula in formulas.by_topic(TOPIC):
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula.id, proof.failures)
        elif formula.kind == "definition":
            assert all(step.check().passed for step in formula.properties), formula.id
        else:
            assert formula.kind == "cross-checked", formula.id


def test_greedy_policy_of_a_bad_policy_is_not_optimal(device):
    """A corridor with the reward at the right end; pi = always left. Independent route: value
    iteration in torch for v_*, a linear solve for the greedy policy's value."""
    S = 5
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    for s in range(S):
        P[s, 0, max(s - 1, 0)] = P[s, 1, min(s + 1, S - 1)] = 1.0
        R[s, 1] = 1.0 if s == S - 1 else -0.01
    greedy = formulas.get("greedy-policy").evaluate(P=P, R=R, gamma=0.9, V=np.zeros(S))
    Pt, Rt = torch.tensor(P, device=device), torch.tensor(R, device=device)
    V = torch.zeros(S, dtype=torch.float64, device=device)
    for _ in range(500):
        V = (Rt + 0.9 * Pt @ V).max(dim=1).values
    P_pi = P[np.arange(S), greedy]
    v_greedy = np.linalg.solve(np.eye(S) - 0.9 * P_pi, R[np.arange(S), greedy])
    assert np.max(V.cpu().numpy() - v_greedy) > 1.0  # far from optimal
    from formulas.core import REGISTRY

    evidence = REGISTRY.claim("rl-greedy-policy-optimal").check()
    assert evidence.sheet_fails is True and evidence.correct_passes is True


def test_policy_gradient_trajectory_log_claim_and_monte_carlo_claim():
    from formulas.core import REGISTRY

    formulas.all()
    log_claim = REGISTRY.claim("rl-policy-gradient-log-trajectory").check()
    assert log_claim.sheet_fails is True and log_claim.correct_passes is True
    mc = REGISTRY.claim("rl-monte-carlo").check()
    assert mc.sheet_fails is False and mc.correct_passes is True
