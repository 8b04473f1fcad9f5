"""RL multipart problems (rl-policy-evaluation-multipart, rl-reinforce-baseline-multipart):
every part recomputed by an independent route (a linear solve for v_pi, torch autograd of
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
    "rl-policy-evaluation-multipart": check_policy_evaluation,
    "rl-reinforce-baseline-multipart": check_reinforce,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
