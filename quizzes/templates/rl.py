"""Generated questions on reinforcement learning (sheet section 7): one value-iteration
backup on a small random MDP, the greedy action, the discounted return, the TD(0), SARSA and
Q-learning updates (with the sheet's two index misprints as foreseen mistakes), the
actor-critic TD advantage, and the order of the contraction proof.

Every answer comes from the formula registry (bellman-optimality-backup, greedy-policy,
discounted-return, td0-update, sarsa-update, q-learning-update, actor-critic-advantage,
bellman-contraction); the numbers drawn are on a grid and small enough to do by hand.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    grid,
    guard_module,
    numeric,
    ordering_question,
    show,
    vector,
    wrong,
)

TOPIC = "rl"
GAMMAS = (0.5, 0.8, 0.9)


def _mdp(rng: random.Random, states: int, actions: int = 2):
    """P[s, a, s'] with probabilities in tenths, R[s, a] integers, V integers."""
    import numpy as np

    P = np.zeros((states, actions, states))
    for s in range(states):
        for a in range(actions):
            cuts = sorted(rng.randint(0, 10) for _ in range(states - 1))
            parts = [b - a_ for a_, b in zip([0, *cuts], [*cuts, 10])]
            P[s, a] = np.array(parts) / 10
    R = np.array([[rng.randint(-2, 3) for _ in range(actions)] for _ in range(states)], float)
    V = np.array([rng.randint(-2, 5) for _ in range(states)], float)
    return P, R, V


def _mdp_drawn(P, R, V, gamma) -> dict:
    """The MDP as the prompt states it (Question.drawn): P[s][a] the transition vector, r[s][a]
    the reward, V the value estimate (V(s1) first), gamma."""
    return {"P": P.tolist(), "r": R.tolist(), "V": V.tolist(), "gamma": gamma}


def _mdp_text(P, R, V, gamma) -> str:
    states, actions = R.shape
    lines = []
    for s in range(states):
        for a in range(actions):
            lines.append(
                f"from s{s + 1} action a{a + 1}: reward r = {show(R[s, a])}, "
                f"P(s' | s{s + 1}, a{a + 1}) = {vector(P[s, a])}"
            )
    names = ", ".join(f"s{s + 1}" for s in range(states))
    return (
        f"An MDP has states {names} and actions "
        + ", ".join(f"a{a + 1}" for a in range(actions))
        + f"; the transition vectors list P(s' = {names}). "
        + "; ".join(lines)
        + f". Discount gamma = {show(gamma)}; the current value estimate is V = {vector(V)} "
        f"(V(s1) first)."
    )


@template(
    "rl-value-iteration-backup-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("bellman-optimality-backup",),
    difficulty=2,
    tags=("value-iteration", "bellman"),
)
def value_iteration_backup(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    P, R, V = _mdp(rng, rng.choice([2, 3]))
    gamma = rng.choice(GAMMAS)
    s = rng.randrange(len(V))
    backup = formulas.get("bellman-optimality-backup").evaluate(P=P, R=R, gamma=gamma, V=V)
    value = backup[s]
    q = R[s] + gamma * P[s] @ V
    return numeric(
        question_id,
        TOPIC,
        _mdp_text(P, R, V, gamma)
        + f" One sweep of value iteration applies the Bellman optimality backup T*. "
        f"What is (T*V)(s{s + 1})?",
        value,
        "(T*V)(s) = max_a (r(s,a) + gamma sum_s' P(s'|s,a) V(s')): one expected look-ahead "
        "per action, then the max over actions. See `cheatsheet derive bellman-optimality-backup`.",
        ("bellman-optimality-backup",),
        mistakes=wrong(
            (
                float(np.mean(q)),
                "that averages over the actions (a uniform policy's backup); "
                "the optimality backup takes the max over actions.",
            ),
            (float(np.max(R[s] + P[s] @ V)), "the discount gamma is missing on V(s')."),
            (float(np.max(R[s])), "the look-ahead term gamma sum_s' P(s'|s,a) V(s') is missing."),
            answer=value,
        ),
        drawn=_mdp_drawn(P, R, V, gamma) | {"s": s + 1},
    )


@template(
    "rl-greedy-action-draw",
    topic=TOPIC,
    kind="choice",
    formulas=("greedy-policy",),
    difficulty=2,
    tags=("policy-improvement",),
)
def greedy_action(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    while True:
        P, R, V = _mdp(rng, rng.choice([2, 3]), actions=3)
        gamma = rng.choice(GAMMAS)
        s = rng.randrange(len(V))
        q = R[s] + gamma * P[s] @ V
        if np.sort(q)[-1] - np.sort(q)[-2] > 0.05 and int(np.argmax(R[s])) != int(np.argmax(q)):
            break  # a clear winner, and not simply the largest immediate reward
    best = int(formulas.get("greedy-policy").evaluate(P=P, R=R, gamma=gamma, V=V)[s])
    greedy_reward = int(np.argmax(R[s]))
    from quizzes.questions import Mistake

    return Question(
        id=question_id,
        topic=TOPIC,
        kind="choice",
        prompt=_mdp_text(P, R, V, gamma)
        + f" Which action does the greedy policy with respect to V choose in s{s + 1}?",
        answer=chr(ord("A") + best),
        explanation=(
            "pi'(s) = argmax_a (r(s,a) + gamma sum_s' P(s'|s,a) V(s')): here the action values are "
            + ", ".join(f"a{a + 1}: {show(v, 4)}" for a, v in enumerate(q))
            + ". See `cheatsheet derive greedy-policy`."
        ),
        formulas=("greedy-policy",),
        choices=tuple(f"a{a + 1}" for a in range(len(q))),
        option_reasons=tuple(
            ""
            if a == best
            else f"Its action value r + gamma E[V(s')] is {show(value, 4)}, below "
            f"{show(q[best], 4)}."
            for a, value in enumerate(q)
        ),
        mistakes=(
            Mistake(
                chr(ord("A") + greedy_reward),
                "that action has the largest immediate reward, but the greedy policy also "
                "counts gamma times the expected value of where it leads.",
            ),
        ),
        drawn=_mdp_drawn(P, R, V, gamma) | {"s": s + 1},
    )


@template(
    "rl-discounted-return-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("discounted-return",),
    difficulty=1,
    tags=("return",),
)
def discounted_return(rng: random.Random, question_id: str) -> Question:
    import formulas

    rewards = [rng.randint(-2, 4) for _ in range(rng.randint(3, 5))]
    gamma = rng.choice(GAMMAS)
    t = rng.randint(0, 1)
    returns = formulas.get("discounted-return").evaluate(rewards=rewards, gamma=gamma)
    value = returns[t]
    shifted = sum(gamma ** (k + 1) * r for k, r in enumerate(rewards[t:]))
    return numeric(
        question_id,
        TOPIC,
        f"An episode yields the rewards R_1, ..., R_{len(rewards)} = {vector(rewards)} and then "
        f"ends. With discount gamma = {show(gamma)}, what is the return G_{t} "
        f"= sum_k gamma^k R_{{{t}+k+1}}?",
        value,
        "G_t = R_{t+1} + gamma R_{t+2} + gamma^2 R_{t+3} + ...: the first reward after t is not "
        "discounted. See `cheatsheet derive discounted-return`.",
        ("discounted-return",),
        mistakes=wrong(
            (shifted, "every reward got one factor gamma too many; R_{t+1} enters undiscounted."),
            (sum(rewards[t:]), "the discount gamma^k is missing."),
            answer=value,
        ),
        drawn={"R": rewards, "gamma": gamma, "t": t},
    )


def _q_table(rng: random.Random):
    import numpy as np

    return np.array([[grid(rng, -2, 3, 0.5) for _ in range(2)] for _ in range(2)])


def _q_text(Q) -> str:
    return "; ".join(f"Q(s{s + 1}, a{a + 1}) = {show(Q[s, a])}" for s in range(2) for a in range(2))


@template(
    "rl-td-control-update-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("sarsa-update", "q-learning-update"),
    difficulty=2,
    tags=("td", "sarsa", "q-learning", "errata"),
)
def td_control(rng: random.Random, question_id: str) -> Question:
    import formulas

    while True:
        Q = _q_table(rng)
        # the next action differs from both the old one and the greedy one: the three
        # targets (SARSA, Q-learning, the sheet's misprints) then differ
        if len(set(Q[1])) == 2:
            break
    s, s_next = 0, 1
    a_next = int(Q[s_next].argmin())  # an exploratory (non-greedy) next action
    a = 1 - a_next  # and not the old action either, so Q(S', A) is the sheet's wrong value
    r = rng.randint(-1, 2)
    gamma, alpha = rng.choice(GAMMAS), rng.choice([0.1, 0.2, 0.5])
    method = rng.choice(["SARSA", "Q-learning"])
    sarsa = formulas.get("sarsa-update").evaluate(
        Q=Q, s=s, a=a, r=r, s_next=s_next, a_next=a_next, gamma=gamma, alpha=alpha
    )[s, a]
    qlearn = formulas.get("q-learning-update").evaluate(
        Q=Q, s=s, a=a, r=r, s_next=s_next, gamma=gamma, alpha=alpha
    )[s, a]
    # the sheet's forms bootstrap from Q(S', A) with the old action A
    sheet = formulas.get("sarsa-update").evaluate(
        Q=Q, s=s, a=a, r=r, s_next=s_next, a_next=a, gamma=gamma, alpha=alpha
    )[s, a]
    if method == "SARSA":
        value, formula_id = sarsa, "sarsa-update"
        other = (
            qlearn,
            "that is Q-learning's target (max over a'); SARSA is on-policy and "
            "bootstraps from the action A' it actually takes next.",
        )
        rule = (
            "Q(S,A) <- Q(S,A) + alpha (r + gamma Q(S',A') - Q(S,A)) with A' the next action taken"
        )
    else:
        value, formula_id = qlearn, "q-learning-update"
        other = (
            sarsa,
            "that is SARSA's target Q(S',A'); Q-learning is off-policy and "
            "bootstraps from max_a' Q(S',a').",
        )
        rule = "Q(S,A) <- Q(S,A) + alpha (r + gamma max_a' Q(S',a') - Q(S,A))"
    return numeric(
        question_id,
        TOPIC,
        f"A tabular agent has {_q_text(Q)}. It takes action a{a + 1} in s1, receives "
        f"r = {r}, lands in s2 and there chooses (epsilon-greedily) the action a{a_next + 1}. "
        f"With step size alpha = {show(alpha)} and gamma = {show(gamma)}, what is Q(s1, a{a + 1}) "
        f"after one {method} update?",
        value,
        f"{method}: {rule}. The sheet prints Q(S', A) with the old action A; the bootstrap "
        f"action is A' (SARSA) or the argument a' of the max (Q-learning). "
        f"See `cheatsheet derive {formula_id}`.",
        (formula_id,),
        mistakes=wrong(
            other,
            (
                sheet,
                "that bootstraps from Q(S', A) with the old action A, the sheet's misprint; "
                "the next state's value uses A' (SARSA) or max over a' (Q-learning).",
            ),
            answer=value,
        ),
        drawn={
            "Q": Q.tolist(),  # Q[s - 1][a - 1]
            "a": a + 1,
            "r": r,
            "a_next": a_next + 1,
            "alpha": alpha,
            "gamma": gamma,
            "method": method,
        },
    )


@template(
    "rl-td0-update-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("td0-update",),
    difficulty=1,
    tags=("td",),
)
def td0(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    V = np.array([grid(rng, -2, 4, 0.5) for _ in range(3)])
    s, s_next = rng.sample(range(3), 2)
    r = rng.randint(-1, 3)
    gamma, alpha = rng.choice(GAMMAS), rng.choice([0.1, 0.25, 0.5])
    value = formulas.get("td0-update").evaluate(
        V=V, s=s, r=r, s_next=s_next, gamma=gamma, alpha=alpha
    )[s]
    return numeric(
        question_id,
        TOPIC,
        f"TD(0) policy evaluation: the table holds V = {vector(V)} for states s1, s2, s3. The "
        f"agent moves from s{s + 1} to s{s_next + 1} with reward r = {r}. With alpha = "
        f"{show(alpha)} and gamma = {show(gamma)}, what is V(s{s + 1}) after the update?",
        value,
        "V(s) <- V(s) + alpha (r + gamma V(s') - V(s)): move towards the one-step TD target. "
        "See `cheatsheet derive td0-update`.",
        ("td0-update",),
        mistakes=wrong(
            (V[s] + alpha * (r + gamma * V[s_next]), "the -V(s) inside the TD error is missing."),
            (
                r + gamma * V[s_next],
                "that is the TD target itself; the update only moves V(s) a step alpha towards it.",
            ),
            answer=value,
        ),
        drawn={
            "V": V.tolist(),
            "s": s + 1,
            "s_next": s_next + 1,
            "r": r,
            "alpha": alpha,
            "gamma": gamma,
        },
    )


@template(
    "rl-actor-critic-advantage-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("actor-critic-advantage",),
    difficulty=1,
    tags=("actor-critic", "advantage"),
)
def actor_critic(rng: random.Random, question_id: str) -> Question:
    import formulas

    reward = rng.randint(-2, 3)
    value, next_value = grid(rng, -3, 5, 0.5), grid(rng, -3, 5, 0.5)
    gamma = rng.choice(GAMMAS)
    advantage = formulas.get("actor-critic-advantage").evaluate(
        reward=reward, value=value, next_value=next_value, gamma=gamma
    )
    return numeric(
        question_id,
        TOPIC,
        f"An actor-critic agent in state s takes action a, gets r(s,a) = {reward} and lands in "
        f"s'. The critic estimates V(s) = {show(value)} and V(s') = {show(next_value)}; "
        f"gamma = {show(gamma)}. By what factor (the TD advantage estimate) is "
        "grad_theta log pi_theta(a|s) weighted in the actor's update?",
        advantage,
        "A(s,a) ~ r(s,a) + gamma V(s') - V(s), the TD error; with V = v_pi it is an unbiased "
        "estimate of q_pi(s,a) - v_pi(s). See `cheatsheet derive actor-critic-advantage`.",
        ("actor-critic-advantage",),
        mistakes=wrong(
            (reward + gamma * next_value, "that is the TD target; subtract the baseline V(s)."),
            (reward + next_value - value, "the discount gamma on V(s') is missing."),
            answer=advantage,
        ),
        drawn={"r(s,a)": reward, "V(s)": value, "V(s')": next_value, "gamma": gamma},
    )


@template(
    "rl-contraction-proof-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=("bellman-contraction",),
    difficulty=3,
    tags=("derivation", "value-iteration"),
)
def contraction_order(rng: random.Random, question_id: str) -> Question:
    keep = sorted(rng.sample(range(5), 4)) if rng.random() < 0.5 else list(range(5))
    return ordering_question(
        rng,
        question_id,
        TOPIC,
        "bellman-contraction",
        "Put the proof that value iteration converges (the Bellman optimality operator T* "
        "is a gamma-contraction in the max norm) in order.",
        keep,
        note=". The averaging step is an inequality (<=), not the equality the sheet prints",
        example=True,
    )


@template(
    "rl-returns-td-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("discounted-return", "td0-update"),
    difficulty=2,
    tags=("returns", "td", "multipart"),
)
def returns_td_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    rewards = [float(rng.choice([-1, 1, 2, 3])) for _ in range(3)]
    gamma = rng.choice([0.5, 0.8, 0.9])
    alpha = rng.choice([0.1, 0.2, 0.5])
    values = [grid(rng, -1, 3, 0.5) for _ in range(2)]
    returns = formulas.get("discounted-return").evaluate(rewards=rewards, gamma=gamma)
    updated = formulas.get("td0-update").evaluate(
        V=values, s=0, r=rewards[0], s_next=1, gamma=gamma, alpha=alpha
    )
    return problem(
        question_id,
        TOPIC,
        f"An episode visits s_0, s_1, s_2 and ends after the rewards r_1, r_2, r_3 = "
        f"{vector(rewards)} (r_1 for leaving s_0); gamma = {show(gamma)}. The current value "
        f"estimates are V(s_0) = {show(values[0])} and V(s_1) = {show(values[1])}; the step size "
        f"is alpha = {show(alpha)}.",
        [
            part(
                "numeric",
                "What is the Monte-Carlo return G_0 of s_0?",
                returns[0],
                "G_0 = r_1 + gamma r_2 + gamma^2 r_3.",
            ),
            part(
                "numeric",
                "What is V(s_0) after one TD(0) update on the first transition (s_0, r_1, s_1)?",
                updated[0],
                "V(s_0) <- V(s_0) + alpha (r_1 + gamma V(s_1) - V(s_0)).",
            ),
            choice_part(
                rng,
                "Which target is an unbiased sample of V^pi(s_0), and why?",
                "the return G_0: its expectation under pi is V^pi(s_0) by definition; the TD "
                "target leans on the estimate V(s_1)",
                {
                    "the TD target r_1 + gamma V(s_1): it uses the Bellman equation": "it uses "
                    "the current estimate V(s_1), which is biased until it has converged",
                    "both: they have the same expectation for any V": "only with V(s_1) = "
                    "V^pi(s_1) do they agree in expectation",
                    "neither: only the value iteration backup is unbiased": "G_0 is an unbiased "
                    "sample of V^pi(s_0) by definition",
                },
                "MC: unbiased, high variance; TD: biased by V, lower variance (it bootstraps).",
            ),
        ],
        formulas=("discounted-return", "td0-update"),
        carried={2: f"(a) G_0 = {number(returns[0])}; (b) V(s_0) = {number(updated[0])}"},
        drawn={
            "r_1, r_2, r_3": rewards,
            "gamma": gamma,
            "V(s_0)": values[0],
            "V(s_1)": values[1],
            "alpha": alpha,
        },
    )


@template(
    "rl-value-iteration-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("bellman-optimality-backup", "greedy-policy"),
    difficulty=3,
    tags=("value-iteration", "multipart"),
)
def value_iteration_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    backup = formulas.get("bellman-optimality-backup")
    while True:  # a clear greedy winner in the state asked about
        P, R, V = _mdp(rng, 2)
        gamma = rng.choice(GAMMAS)
        once = np.asarray(backup.evaluate(P=P, R=R, gamma=gamma, V=V), float)
        s = rng.randrange(2)
        q = R[s] + gamma * P[s] @ once
        if abs(q[0] - q[1]) > 0.05:
            break
    twice = np.asarray(backup.evaluate(P=P, R=R, gamma=gamma, V=once), float)
    greedy = int(formulas.get("greedy-policy").evaluate(P=P, R=R, gamma=gamma, V=once)[s])
    gap = float(np.max(np.abs(twice - once)))
    return problem(
        question_id,
        TOPIC,
        _mdp_text(P, R, V, gamma),
        [
            part(
                "numeric",
                f"After one sweep of value iteration, what is V_1(s{s + 1})?",
                once[s],
                "V_1(s) = max_a (r(s,a) + gamma sum_s' P(s'|s,a) V_0(s')).",
            ),
            part(
                "numeric",
                f"After a second sweep, what is V_2(s{s + 1})?",
                twice[s],
                "The same backup applied to V_1.",
            ),
            part(
                "numeric",
                "What is ||V_2 - V_1||_inf?",
                gap,
                "The largest change over the states; it shrinks by at least gamma per sweep.",
            ),
            choice_part(
                rng,
                f"Acting greedily with respect to V_1, which action does the policy take in "
                f"s{s + 1}?",
                f"a{greedy + 1}",
                {
                    f"a{a + 1}": f"its action value r + gamma E[V_1(s')] is {show(q[a], 4)}, "
                    f"below {show(q[greedy], 4)}"
                    for a in range(2)
                    if a != greedy
                }
                | {"both actions are equally good": "their action values differ"},
                "argmax_a of the same backup.",
            ),
        ],
        formulas=("bellman-optimality-backup", "greedy-policy"),
        carried={
            1: f"(a) V_1 = {vector([number(v) for v in once])}",
            2: f"(a), (b) as above; V_2 = {vector([number(v) for v in twice])}",
            3: f"V_1 = {vector([number(v) for v in once])}",
        },
        drawn=_mdp_drawn(P, R, V, gamma) | {"s": s + 1},
    )


@template(
    "rl-sarsa-q-learning-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("q-learning-update", "sarsa-update"),
    difficulty=2,
    tags=("td-control", "multipart"),
)
def sarsa_q_learning_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, part, show, vector

    Q = np.array([[grid(rng, -1, 3, 0.5) for _ in range(2)] for _ in range(2)])
    while Q[1, 0] == Q[1, 1]:
        Q[1, 1] += 1.0
    r = rng.choice([-1.0, 0.0, 1.0, 2.0])
    gamma, alpha = rng.choice([0.5, 0.9]), rng.choice([0.1, 0.5])
    worse = int(np.argmin(Q[1]))  # the exploratory next action SARSA actually takes
    q_learning = formulas.get("q-learning-update").evaluate(
        Q=Q, s=0, a=0, r=r, s_next=1, gamma=gamma, alpha=alpha
    )
    sarsa = formulas.get("sarsa-update").evaluate(
        Q=Q, s=0, a=0, r=r, s_next=1, a_next=worse, gamma=gamma, alpha=alpha
    )
    return problem(
        question_id,
        TOPIC,
        f"A Q-table over states s1, s2 and actions a1, a2: Q(s1, .) = {vector(Q[0])}, "
        f"Q(s2, .) = {vector(Q[1])}. The agent takes a1 in s1, receives r = {show(r)}, lands "
        f"in s2 and then (exploring) takes a{worse + 1} there. gamma = {show(gamma)}, "
        f"alpha = {show(alpha)}.",
        [
            part(
                "numeric",
                "What is Q(s1, a1) after a Q-learning update?",
                q_learning[0, 0],
                "Target r + gamma max_a' Q(s2, a').",
            ),
            part(
                "numeric",
                "What is Q(s1, a1) after a SARSA update instead?",
                sarsa[0, 0],
                "Target r + gamma Q(s2, a') with the action actually taken.",
            ),
            choice_part(
                rng,
                "Why do the two targets differ here?",
                "Q-learning is off-policy (it bootstraps from the greedy action); SARSA is "
                "on-policy (from the exploratory action taken)",
                {
                    "SARSA ignores the reward": "both add r",
                    "Q-learning uses a smaller step size": "both use the same alpha",
                    "they do not differ when gamma < 1": "they differ whenever the action "
                    "taken is not the greedy one",
                },
                "Sutton and Barto, 6.4-6.5: cliff walking shows the difference.",
            ),
        ],
        formulas=("q-learning-update", "sarsa-update"),
        drawn={
            "Q": Q.tolist(),  # Q[s - 1][a - 1]
            "r": r,
            "a_next": worse + 1,
            "gamma": gamma,
            "alpha": alpha,
        },
    )


@template(
    "rl-policy-evaluation-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("bellman-expectation", "bellman-contraction"),
    difficulty=3,
    tags=("policy-evaluation", "contraction", "multipart"),
)
def policy_evaluation_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    backup = formulas.get("bellman-expectation")
    P, R, V = _mdp(rng, 2)
    gamma = rng.choice(GAMMAS)
    first = rng.choice([0.2, 0.5, 0.8, 1.0])
    second = rng.choice([0.0, 0.3, 0.6, 0.9])
    policy = np.array([[first, 1 - first], [second, 1 - second]])
    s = rng.randrange(2)
    once = np.asarray(backup.evaluate(P=P, R=R, gamma=gamma, policy=policy, V=V), float)
    fixed = V.copy()  # v_pi: the fixed point of the backup, by iterating it
    for _ in range(5000):
        nxt = np.asarray(backup.evaluate(P=P, R=R, gamma=gamma, policy=policy, V=fixed), float)
        if np.max(np.abs(nxt - fixed)) < 1e-13:
            break
        fixed = nxt
    after = float(np.max(np.abs(once - fixed)))
    before = float(np.max(np.abs(V - fixed)))
    pi_text = "; ".join(
        f"pi(a1 | s{i + 1}) = {show(policy[i, 0])}, pi(a2 | s{i + 1}) = {show(policy[i, 1])}"
        for i in range(2)
    )
    return problem(
        question_id,
        TOPIC,
        _mdp_text(P, R, V, gamma)
        + f" The policy evaluated is {pi_text}. T^pi is the Bellman expectation backup "
        "(T^pi V)(s) = sum_a pi(a|s) (r(s,a) + gamma sum_s' P(s'|s,a) V(s')); v_pi is its "
        "fixed point. ||.||_inf is the largest absolute entry over the states.",
        [
            part(
                "numeric",
                f"What is (T^pi V)(s{s + 1}), one backup of the current estimate V?",
                once[s],
                "Average the action values r + gamma E[V(s')] with the weights pi(a|s).",
                drawn={"s": s + 1},
            ),
            part(
                "numeric",
                f"Solve the Bellman expectation equation v_pi = R^pi + gamma P^pi v_pi: what is "
                f"v_pi(s{s + 1})? (A 2 x 2 linear system; 3 significant figures.)",
                fixed[s],
                "v_pi = (I - gamma P^pi)^(-1) R^pi with R^pi(s) = sum_a pi(a|s) r(s,a) and "
                "P^pi(s, s') = sum_a pi(a|s) P(s'|s,a).",
            ),
            part(
                "numeric",
                "What is ||T^pi V - v_pi||_inf, the error after the one backup of (a)?",
                after,
                "Subtract v_pi from T^pi V state by state; take the largest absolute value.",
            ),
            choice_part(
                rng,
                "Compare (c) with the error before the backup, ||V - v_pi||_inf = "
                f"{show(before, 4)}. Which statement is right, and why?",
                "(c) is at most gamma times it: T^pi is a gamma-contraction in the max norm, "
                "since |(T^pi V - T^pi U)(s)| = gamma |sum pi P (V - U)| <= gamma ||V - U||_inf",
                {
                    "(c) can be larger: one backup may move V away from v_pi": "a contraction "
                    "never increases the distance to its fixed point",
                    "(c) is exactly gamma times it, for every V": "the bound is an inequality; "
                    "averaging over s' can shrink the error more",
                    "(c) is smaller only because the rewards are bounded": "the rewards cancel "
                    "in T^pi V - T^pi U; the factor gamma < 1 does the work",
                },
                "The rewards cancel in T V - T U, the probabilities average, gamma remains.",
            ),
            part(
                "symbolic",
                "Justify why iterating the backup converges from any start: write the bound on "
                "||(T^pi)^k V - v_pi||_inf after k backups, in terms of gamma, k and "
                "D = ||V - v_pi||_inf.",
                "gamma^k*D",
                "Apply the contraction k times (v_pi = T^pi v_pi): the error is at most "
                "gamma^k D -> 0, and the fixed point is unique (Banach).",
                symbols={"gamma": "positive", "k": "positive-integer", "D": "positive"},
            ),
        ],
        formulas=("bellman-expectation", "bellman-contraction"),
        carried={
            2: f"(a) (T^pi V)(s{s + 1}) = {number(once[s])}; T^pi V = "
            f"{vector([number(v) for v in once])}; (b) v_pi = {vector([number(v) for v in fixed])}",
            3: f"(c) ||T^pi V - v_pi||_inf = {number(after)}",
        },
        drawn=_mdp_drawn(P, R, V, gamma) | {"pi": policy.tolist()},  # pi[s - 1][a - 1]
    )


@template(
    "rl-reinforce-baseline-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("reinforce-gradient", "policy-gradient"),
    difficulty=3,
    tags=("policy-gradient", "reinforce", "baseline", "multipart"),
)
def reinforce_baseline_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    logits = [grid(rng, -1, 1, 0.5) for _ in range(3)]
    while len(set(logits)) < 3:
        logits = [grid(rng, -1, 1, 0.5) for _ in range(3)]
    action = rng.randrange(3)
    component = rng.choice([j for j in range(3) if j != action])
    G = float(rng.choice([1, 2, 3, 4, 5]))
    b = float(rng.choice([1, 2, 3, 4, 5]))
    while b == G:
        b = float(rng.choice([1, 2, 3, 4, 5]))
    probs = np.exp(logits) / np.exp(logits).sum()
    estimator = formulas.get("reinforce-gradient")
    plain_grad = estimator.evaluate(logits=logits, actions=[action], rewards=[G])
    with_baseline = estimator.evaluate(logits=logits, actions=[action], rewards=[G], baseline=b)
    return problem(
        question_id,
        TOPIC,
        f"A one-step task (a bandit): the policy is a softmax over the logits theta = "
        f"{vector(logits)} of the actions a1, a2, a3 (pi(a_j) = exp(theta_j) / sum_k "
        f"exp(theta_k)). One episode samples a{action + 1} and receives the return G = "
        f"{show(G)}. REINFORCE estimates grad_theta J by (G - b) grad_theta log pi(a) from "
        "this one sample; b is a baseline (b = 0: none).",
        [
            part(
                "symbolic",
                f"Derive d log pi(a{action + 1}) / d theta_{action + 1} in terms of theta_1, "
                "theta_2, theta_3.",
                f"1 - exp(theta_{action + 1})/(exp(theta_1) + exp(theta_2) + exp(theta_3))",
                "log pi(a_j) = theta_j - log sum_k exp(theta_k); its derivative in theta_j is "
                "1 - pi(a_j) (and -pi(a_k) in theta_k, k != j).",
                symbols={"theta_1": "real", "theta_2": "real", "theta_3": "real"},
            ),
            part(
                "numeric",
                f"What is pi(a{action + 1})?",
                probs[action],
                "exp(theta_j) / sum_k exp(theta_k).",
            ),
            part(
                "numeric",
                f"With no baseline (b = 0), what is component {component + 1} (counting from "
                "1) of the one-sample gradient estimate?",
                plain_grad[component],
                f"G (1[j = a] - pi(a_j)) = -G pi(a{component + 1}) for an action not taken.",
                drawn={"component": component + 1},
            ),
            part(
                "numeric",
                f"With the baseline b = {show(b)}, what is the same component?",
                with_baseline[component],
                "(G - b)(1[j = a] - pi(a_j)).",
                drawn={"b": b},
            ),
            choice_part(
                rng,
                "Which statement about the baseline is right, and why?",
                "it leaves the expected gradient unchanged: E_a[grad log pi(a)] = sum_a "
                "grad pi(a) = grad 1 = 0, so E[b grad log pi(a)] = 0; it only changes the "
                "variance",
                {
                    "it biases the gradient towards actions with return above b, which is why "
                    "it helps": "E[b grad log pi(a)] = b grad sum_a pi(a) = 0: no bias",
                    "it must equal the return G of the sampled action to be unbiased": "any b "
                    "that does not depend on the action keeps the estimate unbiased",
                    "it is unbiased only for b = 0": "the score has expectation 0, so any "
                    "constant b leaves the expectation unchanged",
                },
                "The score function has zero mean; a good b (about E[G]) cuts the variance.",
            ),
        ],
        formulas=("reinforce-gradient", "policy-gradient"),
        carried={
            2: f"(a) 1 - pi(a{action + 1}); (b) pi(a{action + 1}) = {number(probs[action])}",
            3: f"(c) {number(plain_grad[component])}",
        },
        drawn={"theta": logits, "a": action + 1, "G": G},
    )


guard_module(__name__)
