"""Generated rl templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by explicit loops over the MDP as stated,
the return summed backwards, and the TD, SARSA/Q-learning and actor-critic updates written
out; the proof ordering against the registry's derivation. Plus: the drawn values are the
ones printed in the prompt, same seed same question, `bank check` on the variants drawn, the
topic's bank, and its question count.
"""

from __future__ import annotations

import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "rl"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_rl.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


# --------------------------------------------------------------------------------------------
# Explicit loops over the MDP as the prompt states it


def _action_values(drawn, state: int) -> dict[int, float]:
    """{action (1-based): r(s,a) + gamma sum_s' P(s'|s,a) V(s')} in state `state` (1-based)."""
    gamma, V = drawn["gamma"], drawn["V"]
    q = {}
    for a, (reward, probabilities) in enumerate(zip(drawn["r"][state - 1], drawn["P"][state - 1])):
        q[a + 1] = reward + gamma * sum(p * v for p, v in zip(probabilities, V))
    return q


def check_value_iteration(q):
    close(q.answer, max(_action_values(q.drawn, q.drawn["s"]).values()))


def check_greedy(q):
    values = _action_values(q.drawn, q.drawn["s"])
    best = max(values, key=values.get)
    assert q.choices[ord(q.answer) - ord("A")] == f"a{best}"


def check_discounted_return(q):
    rewards, gamma, t = q.drawn["R"], q.drawn["gamma"], q.drawn["t"]
    G = 0.0
    for reward in reversed(rewards[t:]):  # G_t = R_{t+1} + gamma G_{t+1}
        G = reward + gamma * G
    close(q.answer, G)


def check_td_control(q):
    d = q.drawn
    Q = {(s + 1, a + 1): value for s, row in enumerate(d["Q"]) for a, value in enumerate(row)}
    if d["method"] == "SARSA":
        bootstrap = Q[(2, d["a_next"])]
    else:
        bootstrap = max(Q[(2, 1)], Q[(2, 2)])
    old = Q[(1, d["a"])]
    close(q.answer, old + d["alpha"] * (d["r"] + d["gamma"] * bootstrap - old))


def check_td0(q):
    d = q.drawn
    V = d["V"]
    target = d["r"] + d["gamma"] * V[d["s_next"] - 1]
    close(q.answer, (1 - d["alpha"]) * V[d["s"] - 1] + d["alpha"] * target)


def check_actor_critic(q):
    d = q.drawn
    close(q.answer, d["r(s,a)"] + d["gamma"] * d["V(s')"] - d["V(s)"])


CHECKS = {
    "rl-value-iteration-backup-draw": check_value_iteration,
    "rl-greedy-action-draw": check_greedy,
    "rl-discounted-return-draw": check_discounted_return,
    "rl-td-control-update-draw": check_td_control,
    "rl-td0-update-draw": check_td0,
    "rl-actor-critic-advantage-draw": check_actor_critic,
    "rl-contraction-proof-order-draw": quiz_helpers.check_ordering,
}
# the checks above (and the multipart ones) that recompute from drawn values
DRAWING = [tid for tid in ALL if TEMPLATES[tid].kind != "ordering"]


def test_every_template_of_this_topic_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


def test_drawn_values_are_the_ones_the_prompt_states():
    quiz_helpers.check_templates_draw_what_they_state(ALL, DRAWING, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS, derive_link=True)


def test_topic_has_twenty_questions_five_of_them_ours():
    quiz_helpers.check_question_counts((TOPIC,))


def test_topic_bank_passes_bank_check():
    quiz_helpers.check_topic_banks((TOPIC,))
