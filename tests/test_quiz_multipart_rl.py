"""RL multipart problems, all five (rl-returns-td, rl-sarsa-q-learning, rl-value-iteration,
rl-policy-evaluation, rl-reinforce-baseline; each "-multipart"): every part recomputed from the
values the problem drew (`drawn`) by an independent route (the return summed from the end, both
TD targets written out, Bellman backups swept, a linear solve for v_pi, torch autograd of
log-softmax, the baseline's zero-mean score by exact enumeration), and each part marked on its
own."""

from __future__ import annotations

import numpy as np
import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
    same_expression,
)

from quizzes.catalog import load_templates

load_templates()


def check_rl(q):
    rewards, gamma = q.drawn["r_1, r_2, r_3"], q.drawn["gamma"]
    v0, v1, alpha = q.drawn["V(s_0)"], q.drawn["V(s_1)"], q.drawn["alpha"]
    g = 0.0
    for reward in reversed(rewards):  # G_t = r_{t+1} + gamma G_{t+1}, from the end
        g = reward + gamma * g
    close(q.parts[0].answer, g)
    target = rewards[0] + gamma * v1
    close(q.parts[1].answer, v0 + alpha * (target - v0))
    assert right_option(q.parts[2]).startswith("the return G_0")


def check_sarsa_q(q):
    Q = np.array(q.drawn["Q"])  # Q[s - 1][a - 1]
    r, gamma, alpha = q.drawn["r"], q.drawn["gamma"], q.drawn["alpha"]
    taken = q.drawn["a_next"] - 1
    close(q.parts[0].answer, Q[0, 0] + alpha * (r + gamma * Q[1].max() - Q[0, 0]))
    close(q.parts[1].answer, Q[0, 0] + alpha * (r + gamma * Q[1, taken] - Q[0, 0]))
    assert right_option(q.parts[2]).startswith("Q-learning is off-policy")


def check_value_iteration(q):
    # r[s][a] and P[s][a] (the transition vector) as the prompt lists them
    R = {(s_, a_): r for s_, row in enumerate(q.drawn["r"]) for a_, r in enumerate(row)}
    P = {(s_, a_): p for s_, row in enumerate(q.drawn["P"]) for a_, p in enumerate(row)}
    gamma, V = q.drawn["gamma"], q.drawn["V"]
    s = q.drawn["s"] - 1

    def sweep(values):  # one synchronous Bellman optimality backup, written out
        return [
            max(R[st, a] + gamma * sum(p * v for p, v in zip(P[st, a], values)) for a in (0, 1))
            for st in (0, 1)
        ]

    first = sweep(V)
    second = sweep(first)
    close(q.parts[0].answer, first[s])
    close(q.parts[1].answer, second[s])
    close(q.parts[2].answer, max(abs(a - b) for a, b in zip(first, second)))
    values = [R[s, a] + gamma * sum(p * v for p, v in zip(P[s, a], first)) for a in (0, 1)]
    assert right_option(q.parts[3]) == f"a{int(np.argmax(values)) + 1}"


def check_policy_evaluation(q):
    import sympy as sp

    # P[s, a, s'], r[s, a] and pi[s, a] as the prompt states them
    P, R, pi = (np.array(q.drawn[name], float) for name in ("P", "r", "pi"))
    gamma, V = q.drawn["gamma"], np.array(q.drawn["V"], float)
    s = q.parts[0].drawn["s"] - 1
    r_pi = (pi * R).sum(1)
    p_pi = np.einsum("sa,sat->st", pi, P)
    backed = r_pi + gamma * p_pi @ V  # the backup, as matrices
    v_pi = np.linalg.solve(np.eye(2) - gamma * p_pi, r_pi)  # the linear system, solved
    close(q.parts[0].answer, backed[s])
    close(q.parts[1].answer, v_pi[s])
    after = np.abs(backed - v_pi).max()
    close(q.parts[2].answer, after)
    assert after <= gamma * np.abs(V - v_pi).max() + 1e-12  # the contraction, observed
    assert right_option(q.parts[3]).startswith("(c) is at most gamma times it")
    g, k, D = sp.Symbol("gamma", positive=True), sp.Symbol("k", integer=True), sp.Symbol("D")
    points = [{"gamma": 0.9, "k": 3, "D": 2.5}, {"gamma": 0.5, "k": 7, "D": 0.3}]
    same_expression(
        q.parts[4].answer,
        g**k * D,
        {"gamma": "positive", "k": "positive-integer", "D": "positive"},
        points,
    )
    return {2: repr(float(np.abs(V - v_pi).max())), 3: option_letter(q.parts[3], "(c) can be")}


def check_reinforce(q):
    import sympy as sp
    import torch

    logits, G = q.drawn["theta"], q.drawn["G"]
    action = q.drawn["a"] - 1
    b = q.parts[3].drawn["b"]
    j = q.parts[2].drawn["component"] - 1
    theta = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    torch.log_softmax(theta, 0)[action].backward()
    score = theta.grad
    close(q.parts[1].answer, torch.softmax(theta, 0)[action].item())
    close(q.parts[2].answer, G * score[j].item())
    close(q.parts[3].answer, (G - b) * score[j].item())
    # the baseline's term has mean 0 over the policy: enumerate the three actions
    probs = torch.softmax(theta.detach(), 0)
    mean_score = torch.zeros(3, dtype=torch.float64)
    for a in range(3):
        t = theta.detach().clone().requires_grad_(True)
        torch.log_softmax(t, 0)[a].backward()
        mean_score += probs[a] * t.grad
    assert torch.allclose(mean_score, torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert right_option(q.parts[4]).startswith("it leaves the expected gradient unchanged")
    names = ("theta_1", "theta_2", "theta_3")
    t1, t2, t3 = (sp.Symbol(n, real=True) for n in names)
    ts = (t1, t2, t3)
    truth = sp.diff(ts[action] - sp.log(sp.exp(t1) + sp.exp(t2) + sp.exp(t3)), ts[action])
    points = [dict(zip(names, (0.3, -1.0, 2.0))), dict(zip(names, (-0.5, 0.5, 0.0)))]
    same_expression(q.parts[0].answer, truth, dict.fromkeys(names, "real"), points)
    return {
        0: f"exp(theta_{action + 1})/(exp(theta_1) + exp(theta_2) + exp(theta_3))",
        3: repr(G * score[j].item()),  # the baseline forgotten
        4: option_letter(q.parts[4], "it is unbiased only for b = 0"),
    }


CHECKS = {
    "rl-returns-td-multipart": check_rl,
    "rl-sarsa-q-learning-multipart": check_sarsa_q,
    "rl-value-iteration-multipart": check_value_iteration,
    "rl-policy-evaluation-multipart": check_policy_evaluation,
    "rl-reinforce-baseline-multipart": check_reinforce,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
