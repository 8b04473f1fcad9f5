"""Generated body-model templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by scipy rotations for the bones (skinning,
the candy wrapper, SMPL's posed vertex), numpy least squares for the shape coefficients and
plain numpy for the shape space and the joint regressor. Plus: the drawn values are the ones
printed in the prompt, same seed same question, `bank check` on the variants drawn, the
topic's bank, and its question count.
"""

from __future__ import annotations

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "body"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_body.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def _bone_transform(stated: dict):
    """(rotation, translation) of a bone as the prompt states it: 'rotates by D degrees about
    the z axis, then translates by [..]' or 'translates by [..]'."""
    from scipy.spatial.transform import Rotation

    degrees = stated.get("rotates by", 0.0)
    rotation = Rotation.from_euler("z", degrees, degrees=True)
    return rotation, np.array(stated["translates by"], float)


def _skin(vertex, drawn):
    bones = [_bone_transform(drawn["G_1"]), _bone_transform(drawn["G_2"])]
    return sum(
        w * (rotation.apply(vertex) + translation)
        for (rotation, translation), w in zip(bones, drawn["weights"])
    )


def check_lbs_vertex(q):
    axis = "xyz".index(q.drawn["coordinate"])
    close(q.answer, _skin(np.array(q.drawn["t"], float), q.drawn)[axis])


def check_candy_wrapper(q):
    from scipy.spatial.transform import Rotation

    vertex = np.array(q.drawn["t"], float)
    w1, w2 = q.drawn["weights"]
    twist = Rotation.from_euler("z", q.drawn["twists by"], degrees=True)
    blended = w1 * vertex + w2 * twist.apply(vertex)
    close(q.answer, np.linalg.norm(blended[:2]))


def check_pca_shape(q):
    S, mu, beta = (np.array(q.drawn[n], float) for n in ("S", "mu", "beta"))
    close(q.answer, (mu + np.einsum("ik,k->i", S, beta))[q.drawn["entry"] - 1])


def check_pca_coefficients(q):
    S, mu, T = (np.array(q.drawn[n], float) for n in ("S", "mu", "T"))
    beta, *_ = np.linalg.lstsq(S, T - mu, rcond=None)
    close(q.answer, beta[q.drawn["k"] - 1], abs_=1e-9)


def check_smpl_vertex(q):
    t, S, beta, P, feature = (
        np.array(q.drawn[n], float) for n in ("t", "S", "beta", "P", "(R(theta) - R(theta*))")
    )
    rest = t + S @ beta + P @ feature
    axis = "xyz".index(q.drawn["coordinate"])
    close(q.answer, _skin(rest, q.drawn)[axis])


def check_smpl_joint(q):
    row = np.array(q.drawn["regressor row"], float)
    template = np.array(q.drawn["template positions"], float)
    offsets = np.array(q.drawn["offsets"], float)
    axis = "xyz".index(q.drawn["coordinate"])
    shaped = template + q.drawn["beta"] * offsets
    close(q.answer, sum(row[v] * shaped[v, axis] for v in range(3)))


CHECKS = {
    "lbs-vertex-draw": check_lbs_vertex,
    "lbs-candy-wrapper-draw": check_candy_wrapper,
    "pca-shape-draw": check_pca_shape,
    "pca-shape-coefficients-draw": check_pca_coefficients,
    "smpl-vertex-draw": check_smpl_vertex,
    "smpl-joint-draw": check_smpl_joint,
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
