"""Generated optimizer templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by torch.optim itself (SGD on the
mini-batch loss with autograd, SGD with momentum and Nesterov, Adagrad, RMSprop, Adam), given
the state the prompt states. Plus: the drawn values are the ones printed in the prompt, same
seed same question, `bank check` on the variants drawn, `cheatsheet check` on a variant id,
the topic's bank, and its question count.
"""

from __future__ import annotations

import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "optimizers"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_optimizers.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def t64(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def _torch_step(optimizer_factory, theta, grad, state=None):
    import torch

    p = torch.nn.Parameter(t64([theta]))
    optimizer = optimizer_factory([p])
    if state is not None:
        optimizer.state[p].update(state)
    p.grad = t64([grad])
    optimizer.step()
    return p.item()


def check_sgd(q):
    import torch

    pairs, w0, lr = q.drawn["(x, y)"], q.drawn["w"], q.drawn["epsilon"]
    w = torch.nn.Parameter(t64([w0]))
    optimizer = torch.optim.SGD([w], lr=lr)
    xs, ys = t64([x for x, _ in pairs]), t64([y for _, y in pairs])
    loss = (0.5 * (w * xs - ys) ** 2).mean()
    loss.backward()
    optimizer.step()
    close(q.answer, w.item())


def check_momentum(q):
    import torch

    d = q.drawn
    lr, mu = d["epsilon"], d["alpha"]
    # torch keeps buf = -v / lr: buf <- mu buf + g, theta <- theta - lr buf
    new = _torch_step(
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu),
        d["theta"],
        d["g"],
        {"momentum_buffer": t64([-d["v"] / lr])},
    )
    close(q.answer, new)


def check_nesterov(q):
    import torch

    d = q.drawn
    theta, v, lr, mu, a = d["theta"], d["v"], d["epsilon"], d["alpha"], d["a"]
    # torch's Nesterov runs on the look-ahead variable p = theta + mu v (buf = -v / lr)
    p = torch.nn.Parameter(t64([theta + mu * v]))
    optimizer = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True)
    optimizer.state[p]["momentum_buffer"] = t64([-v / lr])
    loss = (a / 2 * p**2).sum()  # L(theta) = a/2 theta^2
    loss.backward()
    optimizer.step()
    v_new = -lr * optimizer.state[p]["momentum_buffer"].item()
    close(q.answer, p.item() - mu * v_new)


def check_adagrad(q):
    import torch

    d = q.drawn
    new = _torch_step(
        lambda ps: torch.optim.Adagrad(
            ps, lr=d["epsilon"], eps=1e-10, initial_accumulator_value=d["r"]
        ),
        d["theta"],
        d["g"],
    )
    close(q.answer, new)


def check_rmsprop(q):
    import torch

    d = q.drawn
    new = _torch_step(
        lambda ps: torch.optim.RMSprop(ps, lr=d["epsilon"], alpha=d["rho"], eps=1e-8),
        d["theta"],
        d["g"],
        {"step": torch.tensor(0.0), "square_avg": t64([d["r"]])},
    )
    close(q.answer, new)


def check_adam(q):
    import torch

    d = q.drawn
    t = d["t"]
    m, v = d["m"], d["v"]
    if t == 1:  # the prompt states m = v = 0 for the first step
        assert m == v == 0
    new = _torch_step(
        lambda ps: torch.optim.Adam(
            ps, lr=d["eta"], betas=(d["beta_1"], d["beta_2"]), eps=d["epsilon"]
        ),
        d["theta"],
        d["g"],
        {"step": torch.tensor(float(t - 1)), "exp_avg": t64([m]), "exp_avg_sq": t64([v])},
    )
    close(q.answer, new)


CHECKS = {
    "opt-sgd-minibatch-draw": check_sgd,
    "opt-momentum-draw": check_momentum,
    "opt-nesterov-draw": check_nesterov,
    "opt-adagrad-draw": check_adagrad,
    "opt-rmsprop-draw": check_rmsprop,
    "opt-adam-draw": check_adam,
}
# the checks above (and the multipart ones) recompute from drawn values
DRAWING = ALL


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


def test_cli_check_marks_the_variant(tmp_path):
    quiz_helpers.check_cli_marks_the_variant(tmp_path, "opt-adam-draw", 11)
