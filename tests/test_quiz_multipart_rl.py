"""RL multipart problems (rl-policy-evaluation-multipart, rl-reinforce-baseline-multipart):
every part recomputed by an independent route (a linear solve for v_pi, torch autograd of
log-softmax, the baseline's zero-mean score by exact enumeration), and each part marked on its
own."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
    same_expression,
    value,
)

from quizzes.catalog import load_templates

load_templates()


def _mdp(prompt: str):
    lines = re.findall(
        r"from s(\d) action a(\d): reward r = (-?[\d.]+), P\(s' \| s\d, a\d\) = (\[[^\]]*\])",
        prompt,
    )
    R, P = np.zeros((2, 2)), np.zeros((2, 2, 2))
    for s, a, r, p in lines:
        R[int(s) - 1, int(a) - 1] = float(r)
        P[int(s) - 1, int(a) - 1] = ast.literal_eval(p)
    pi = np.array([[float(value(prompt, f"pi(a{a} | s{s})")) for a in (1, 2)] for s in (1, 2)])
    return P, R, pi


def check_policy_evaluation(q):
    import sympy as sp

    P, R, pi = _mdp(q.prompt)
    gamma, V = float(value(q.prompt, "gamma")), np.array(value(q.prompt, "V"), float)
    s = int(re.search(r"V\)\(s(\d)\)", q.parts[0].prompt).group(1)) - 1
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

    logits = value(q.prompt, "theta")
    action = int(re.search(r"samples a(\d)", q.prompt).group(1)) - 1
    G = float(value(q.prompt, "G"))
    b = float(re.search(r"baseline b = (\d+)", q.parts[3].prompt).group(1))
    j = int(re.search(r"component (\d)", q.parts[2].prompt).group(1)) - 1
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
