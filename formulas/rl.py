"""Reinforcement learning (sheet section 7, and "Bellman operator converges" / "Policy
gradients" in the proofs, section 13).

Conventions used by every evaluator here (finite MDPs as arrays):
- P[s, a, s'] = p(s' | s, a), each P[s, a, :] a probability vector;
- R[s, a] = the expected reward r(s, a) = sum_{s', r} p(s', r | s, a) r (the sheet's
  sum over (s', r) collapses to this because the reward term does not depend on s');
- policy[s, a] = pi(a | s); V[s] a value table, Q[s, a] an action-value table.

Proofs about whole MDPs (the Bellman equations, value iteration) are chains whose steps are
checked by computing both sides on random MDPs by different routes (the value as the series
sum_k gamma^k P_pi^k r_pi, never the Bellman equation it is to satisfy); the contraction and
policy-gradient proofs are symbolic.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Erratum,
    Evidence,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
    register_claim,
    verdict_text,
)

# --------------------------------------------------------------------------------------------
# shared numeric helpers (numpy imported inside)


def _random_mdp(seed: int, states: int = 4, actions: int = 3):
    """A random finite MDP: P[s, a, s'] rows on the simplex, R[s, a] in [-1, 1]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    P = rng.random((states, actions, states)) + 0.05
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.uniform(-1.0, 1.0, (states, actions))
    return P, R


def _random_policy(seed: int, states: int, actions: int):
    import numpy as np

    policy = np.random.default_rng(seed + 100).random((states, actions)) + 0.05
    return policy / policy.sum(axis=1, keepdims=True)


def _q_from_v(P, R, gamma, V):
    """q(s, a) = r(s, a) + gamma sum_s' p(s'|s,a) V(s') (the one-step lookahead)."""
    import numpy as np

    P, R, V = (np.asarray(a, dtype=np.float64) for a in (P, R, V))
    return R + gamma * np.einsum("sat,t->sa", P, V)


def _policy_values(P, R, gamma, policy):
    """v_pi and q_pi by solving the linear Bellman expectation equations exactly."""
    import numpy as np

    states = P.shape[0]
    P_pi = np.einsum("sa,sat->st", policy, P)
    r_pi = np.einsum("sa,sa->s", policy, R)
    v = np.linalg.solve(np.eye(states) - gamma * P_pi, r_pi)
    return v, _q_from_v(P, R, gamma, v)


def _expected_return_series(P, R, gamma, policy, horizon=4000):
    """E_pi[G_t | S_t = s] from the definition: sum_k gamma^k E[R_{t+k+1} | S_t = s], where
    E[R_{t+k+1} | S_t = s] = (P_pi^k r_pi)(s) (Markov chain), summed until gamma^k < 1e-18."""
    import numpy as np

    P_pi = np.einsum("sa,sat->st", policy, P)
    reward = np.einsum("sa,sa->s", policy, R)  # E[R_{t+1} | S_t = s]
    total = np.zeros_like(reward)
    weight = 1.0
    for _ in range(horizon):
        total += weight * reward
        reward = P_pi @ reward
        weight *= gamma
        if weight < 1e-18:
            break
    return total


def _optimal_values(P, R, gamma, tolerance: float = 1e-13):
    import numpy as np

    V = np.zeros(P.shape[0])
    for _ in range(100_000):
        V_new = _q_from_v(P, R, gamma, V).max(axis=1)
        if np.max(np.abs(V_new - V)) < tolerance:
            return V_new
        V = V_new
    return V


def _best_deterministic_values(P, R, gamma):
    """max over all deterministic policies of v_pi (exact linear solves): v* by brute force."""
    import numpy as np

    best = np.full(P.shape[0], -np.inf)
    for choice in np.ndindex(*(R.shape[1],) * R.shape[0]):
        policy = np.eye(R.shape[1])[list(choice)]
        best = np.maximum(best, _policy_values(P, R, gamma, policy)[0])
    return best


# --------------------------------------------------------------------------------------------
# discounted-return: G_t = sum_k gamma^k R_{t+k+1} (a definition)


def _return_statement():
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    k, t = sp.symbols("k t", integer=True, nonnegative=True)
    R = sp.IndexedBase("R")
    return sp.Eq(sp.Symbol("G_t"), sp.Sum(gamma**k * R[t + k + 1], (k, 0, sp.oo)))


def _return_properties() -> list[Step]:
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    R = sp.IndexedBase("R")
    r = sp.Symbol("r", real=True)
    return [
        Step(
            "the recursion the Bellman equation uses: G_t = R_{t+1} + gamma G_{t+1} (an "
            "episode ending after R_5, t = 0)",
            sp.Sum(gamma**k * R[k + 1], (k, 0, 4)),
            R[1] + gamma * sp.Sum(gamma**k * R[k + 2], (k, 0, 3)),
        ),
        Step(
            "a constant reward r forever is worth r/(1 - gamma) (gamma = 0.9: ten times r)",
            sp.Sum(r * sp.Rational(9, 10) ** k, (k, 0, sp.oo)),
            10 * r,
        ),
    ]


def discounted_return(rewards, gamma):
    """G_t for every t: rewards[..., k] holds R_{k+1}; G_t = sum_k gamma^k R_{t+k+1}
    (finite episode: terms past the end are zero). Returns an array shaped like rewards."""
    import numpy as np

    rewards = np.asarray(rewards, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[:-1])
    for t in range(rewards.shape[-1] - 1, -1, -1):  # G_t = R_{t+1} + gamma G_{t+1}
        running = rewards[..., t] + gamma * running
        returns[..., t] = running
    return as_float64(returns)


register(
    Formula(
        id="discounted-return",
        title="Discounted return G_t",
        topic="rl",
        section="7",
        text="G_t := sum_{k=0}^inf gamma^k R_{t+k+1}; recursion G_t = R_{t+1} + gamma G_{t+1}",
        keywords=("return", "discount", "gamma", "reward", "G_t", "episode", "cumulative reward"),
        statement_builder=_return_statement,
        evaluator=discounted_return,
        definition=True,
        properties_builder=_return_properties,
        sheet_lines=(195, 195),
    )
)


# --------------------------------------------------------------------------------------------
# bellman-expectation: v_pi(s) = sum_a pi(a|s) sum_{s', r} p(s', r | s, a) [r + gamma v_pi(s')]


def _bellman_parts():
    import sympy as sp

    s, a, s2 = sp.symbols("s a s'")
    gamma = sp.Symbol("gamma", positive=True)
    pi, p, r, v = sp.Function("pi"), sp.Function("p"), sp.Function("r"), sp.Function("v_pi")
    return sp, s, a, s2, gamma, pi, p, r, v


def _expectation_over_policy(sp, s, a, s2, pi, p, inner):
    """sum_a pi(a|s) sum_{s'} p(s'|s,a) [inner]."""
    return sp.Sum(
        pi(a, s) * sp.Sum(p(s2, s, a) * inner, (s2, sp.Symbol("S_1"), sp.Symbol("S_n"))),
        (a, sp.Symbol("A_1"), sp.Symbol("A_m")),
    )


def _bellman_expectation_statement():
    sp, s, a, s2, gamma, pi, p, r, v = _bellman_parts()
    return sp.Eq(v(s), _expectation_over_policy(sp, s, a, s2, pi, p, r(s, a) + gamma * v(s2)))


def bellman_expectation_backup(P, R, gamma, policy, V):
    """(T^pi V)[s] = sum_a pi(a|s) (R[s,a] + gamma sum_s' P[s,a,s'] V[s']); v_pi is its fixed
    point (formula bellman-expectation)."""
    import numpy as np

    policy = np.asarray(policy, dtype=np.float64)
    return as_float64(np.einsum("sa,sa->s", policy, _q_from_v(P, R, gamma, V)))


def _on_random_mdps(route_left, route_right, detail, seeds=range(5), gamma=0.9):
    """A Comparison of two routes, each a function (P, R, gamma, policy) -> array, stacked
    over random MDPs and stochastic policies."""

    def check() -> Comparison:
        import numpy as np

        left, right = [], []
        for seed in seeds:
            P, R = _random_mdp(seed)
            policy = _random_policy(seed, *R.shape)
            left.append(np.asarray(route_left(P, R, gamma, policy)).ravel())
            right.append(np.asarray(route_right(P, R, gamma, policy)).ravel())
        return Comparison(np.concatenate(left), np.concatenate(right), detail)

    return check


def _bellman_expectation_derivation() -> list[Step]:
    import numpy as np

    sp, s, a, s2, gamma, pi, p, r, v = _bellman_parts()
    G = sp.Function("G")
    E_given = sp.Function("E_pi")  # E_pi[X | S = s] written E_pi(X, s)
    R_next = sp.Symbol("R_{t+1}")

    def value(P, R, g, policy):
        return _expected_return_series(P, R, g, policy)

    def split(P, R, g, policy):  # E[R_{t+1} | s] + gamma E[G_{t+1} | s]
        P_pi = np.einsum("sa,sat->st", policy, P)
        return np.einsum("sa,sa->s", policy, R) + g * P_pi @ _expected_return_series(
            P, R, g, policy
        )

    def condition(P, R, g, policy):  # sum_a pi sum_s' p [r + gamma E[G_{t+1} | S_{t+1} = s']]
        future = _expected_return_series(P, R, g, policy)
        return np.einsum("sa,sat,sat->s", policy, P, R[:, :, None] + g * future[None, None, :])

    def bellman(P, R, g, policy):  # the right side with v_pi from the exact linear solve
        v_pi, _ = _policy_values(P, R, g, policy)
        return bellman_expectation_backup(P, R, g, policy, v_pi)

    tolerance = 1e-12
    return [
        Step(
            "v_pi(s) is the expected return from s under pi",
            v(s),
            E_given(G(sp.Symbol("t")), s),
            premise="definition",
            name="value",
        ),
        Step("definition of v_pi", v(s), E_given(G(sp.Symbol("t")), s), uses=("value",)),
        Step(
            "G_t = R_{t+1} + gamma G_{t+1} and linearity of expectation",
            None,
            E_given(R_next, s) + gamma * E_given(G(sp.Symbol("t") + 1), s),
            method="custom",
            custom=_on_random_mdps(
                value,
                split,
                "5 random MDPs and policies: E[G_t|s] as the series sum_k gamma^k P_pi^k r_pi "
                "against r_pi + gamma P_pi (the same series one step on)",
            ),
            tolerance=tolerance,
        ),
        Step(
            "condition on the action (pi) and the next state (p); by the Markov property the "
            "return from S_{t+1} = s' depends on s' only",
            None,
            _expectation_over_policy(
                sp, s, a, s2, pi, p, r(s, a) + gamma * E_given(G(sp.Symbol("t") + 1), s2)
            ),
            method="custom",
            custom=_on_random_mdps(
                split,
                condition,
                "5 random MDPs and policies: r_pi + gamma P_pi E[G] against sum_a pi sum_s' p "
                "[r + gamma E[G | s']]",
            ),
            tolerance=tolerance,
        ),
        Step(
            "E_pi[G_{t+1} | S_{t+1} = s'] = v_pi(s') (the definition at s', stationarity)",
            None,
            _bellman_expectation_statement().rhs,
            method="custom",
            custom=_on_random_mdps(
                condition,
                bellman,
                "5 random MDPs and policies: the series route against the backup of v_pi "
                "from the linear solve (I - gamma P_pi)^{-1} r_pi",
            ),
            tolerance=1e-10,
        ),
    ]


register(
    Formula(
        id="bellman-expectation",
        title="Bellman expectation equation for v_pi",
        topic="rl",
        section="7",
        text="v_pi(s) = E_pi[G_t | S_t = s] = E_pi[R_{t+1} + gamma G_{t+1} | S_t = s] = sum_a "
        "pi(a|s) sum_{s',r} p(s',r|s,a)[r + gamma v_pi(s')]; policy evaluation",
        keywords=(
            "bellman",
            "value function",
            "v_pi",
            "policy evaluation",
            "expectation",
            "dynamic programming",
            "state value",
        ),
        statement_builder=_bellman_expectation_statement,
        derivation_builder=_bellman_expectation_derivation,
        evaluator=bellman_expectation_backup,
        sheet_lines=(195, 195),
    )
)


# --------------------------------------------------------------------------------------------
# bellman-optimality-backup: (T* V)(s) = max_a (R[s,a] + gamma sum_s' P[s,a,s'] V[s'])


def _optimality_statement():
    import sympy as sp

    s, a, s2 = sp.symbols("s a s'")
    gamma = sp.Symbol("gamma", positive=True)
    P, R, V = sp.Function("P"), sp.Function("R"), sp.Function("V")
    backup = R(s, a) + gamma * sp.Sum(P(s, a, s2) * V(s2), (s2, sp.Symbol("S_1"), sp.Symbol("S_n")))
    return sp.Eq(sp.Function("T^*V")(s), sp.Function("max_a")(backup))


def _optimality_properties() -> list[Step]:
    import numpy as np
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    r = sp.Symbol("r", real=True)
    p1, p2 = sp.symbols("p_1 p_2", positive=True)
    probabilities = (p1, p2, 1 - p1 - p2)
    v = sp.symbols("v_1:4", real=True)

    def fixed_point() -> Comparison:
        left, right = [], []
        for seed in range(4):
            P, R = _random_mdp(seed)
            best = _best_deterministic_values(P, R, 0.9)
            left.append(bellman_optimality_backup(P, R, 0.9, best))
            right.append(best)
        return Comparison(
            np.concatenate(left),
            np.concatenate(right),
            "4 random MDPs: T* applied to the best deterministic policy's exact values "
            "(brute force over all policies) returns them",
        )

    def deterministic() -> Comparison:
        rng = np.random.default_rng(3)
        P, R = _random_mdp(3)
        successor = rng.integers(0, P.shape[0], R.shape)  # s' = p(s, a) deterministic
        one_hot = np.eye(P.shape[0])[successor]
        V = rng.normal(size=P.shape[0])
        return Comparison(
            np.max(R + 0.9 * V[successor], axis=1),
            bellman_optimality_backup(one_hot, R, 0.9, V),
            "deterministic dynamics: the sheet's max_a (r(s,a) + gamma V(p(s,a))) against T* "
            "with one-hot P",
        )

    return [
        Step(
            "the reward comes out of the sum over s' (the probabilities sum to one): "
            "sum_s' p(s'|s,a) [r + gamma V(s')] = r + gamma sum_s' p(s'|s,a) V(s')",
            sum(pi * (r + gamma * vi) for pi, vi in zip(probabilities, v)),
            r + gamma * sum(pi * vi for pi, vi in zip(probabilities, v)),
        ),
        Step(
            "v* (brute force) is the fixed point of T*: v* = T* v*",
            custom=fixed_point,
            tolerance=1e-10,
        ),
        Step(
            "with deterministic dynamics T* is the sheet's update V_new(s) = max_a (r(s,a) + "
            "gamma V_old(p(s,a)))",
            custom=deterministic,
        ),
    ]


def bellman_optimality_backup(P, R, gamma, V):
    """(T*V)[s] = max_a (R[s,a] + gamma sum_s' P[s,a,s'] V[s'])
    (formula bellman-optimality-backup)."""
    return as_float64(_q_from_v(P, R, gamma, V).max(axis=-1))


register(
    Formula(
        id="bellman-optimality-backup",
        title="Bellman optimality backup T* (value iteration step)",
        topic="rl",
        section="7.1, 13",
        text="v_*(s) = max_a q_*(s,a) = max_a sum_{s',r} p(s',r|s,a)[r + gamma v_*(s')]; update "
        "V_new(s) = max_a (r(s,a) + gamma V_old(s')); value iteration",
        keywords=(
            "bellman",
            "optimality",
            "value iteration",
            "backup",
            "v_star",
            "q_star",
            "dynamic programming",
            "max",
            "T star",
        ),
        statement_builder=_optimality_statement,
        evaluator=bellman_optimality_backup,
        definition=True,
        properties_builder=_optimality_properties,
        sheet_lines=(199, 199),
    )
)


# --------------------------------------------------------------------------------------------
# bellman-contraction: ||T*V1 - T*V2||_inf <= gamma ||V1 - V2||_inf
# proved symbolically on a general MDP with two states and two actions (p_sa = p(1 | s, a))


def _contraction_parts():
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    # max norms ||T*V_1 - T*V_2||_oo and ||V_1 - V_2||_oo of two value functions
    norm = sp.Function("norm")
    T1, T2, V1, V2 = sp.symbols("T^*V_1 T^*V_2 V_1 V_2", real=True)
    return sp, gamma, norm(T1 - T2, sp.oo), norm(V1 - V2, sp.oo)


def _contraction_statement():
    sp, gamma, lhs, rhs = _contraction_parts()
    return sp.Le(lhs, gamma * rhs)


def _contraction_points(lhs, rhs, detail, points=300):
    """A Comparison of lhs and rhs (sympy, lambdified) at random points of the 2-state,
    2-action MDP: p(1|s,a) and gamma in (0, 1), rewards and values in (-3, 3)."""

    def check() -> Comparison:
        import random

        import sympy as sp

        symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
        left, right = sp.lambdify(symbols, lhs, "numpy"), sp.lambdify(symbols, rhs, "numpy")
        rng = random.Random(0)
        lefts, rights = [], []
        for _ in range(points):
            values = [
                rng.uniform(0.01, 0.99)
                if symbol.name.startswith("p_") or symbol.name == "gamma"
                else rng.uniform(-3, 3)
                for symbol in symbols
            ]
            lefts.append(float(left(*values)))
            rights.append(float(right(*values)))
        return Comparison(lefts, rights, f"{detail}; {points} random MDPs and value pairs")

    return check


def _contraction_derivation() -> list[Step]:
    sp, gamma, lhs_norm, rhs_norm = _contraction_parts()
    states, actions = (1, 2), (1, 2)
    p = {(s, a): sp.Symbol(f"p_{s}{a}", positive=True) for s in states for a in actions}
    r = {(s, a): sp.Symbol(f"r_{s}{a}", real=True) for s in states for a in actions}
    V1 = {s: sp.Symbol(f"V_1({s})", real=True) for s in states}
    V2 = {s: sp.Symbol(f"V_2({s})", real=True) for s in states}

    def expected(V, s, a):  # sum_s' p(s'|s,a) V(s')
        return p[s, a] * V[1] + (1 - p[s, a]) * V[2]

    def Q(V, s, a):
        return r[s, a] + gamma * expected(V, s, a)

    difference = {s: V1[s] - V2[s] for s in states}
    first = sp.Max(
        *[
            sp.Abs(
                sp.Max(*[Q(V1, s, a) for a in actions]) - sp.Max(*[Q(V2, s, a) for a in actions])
            )
            for s in states
        ]
    )
    sup_norm = sp.Max(*[sp.Abs(difference[s]) for s in states])
    max_q = sp.Max(*[sp.Abs(Q(V1, s, a) - Q(V2, s, a)) for s in states for a in actions])
    averaged = gamma * sp.Max(
        *[
            sp.Abs(p[s, a] * difference[1] + (1 - p[s, a]) * difference[2])
            for s in states
            for a in actions
        ]
    )
    return [
        Step(
            "max norm of the backed-up difference: ||T*V_1 - T*V_2|| = max_s |max_a Q_1(s,a) "
            "- max_a Q_2(s,a)|, Q_i(s,a) = r(s,a) + gamma sum_s' p(s'|s,a) V_i(s')",
            lhs_norm,
            first,
            premise="definition",
            name="backed-up",
        ),
        Step(
            "max norm of the difference: ||V_1 - V_2|| = max_s |V_1(s) - V_2(s)|",
            rhs_norm,
            sup_norm,
            premise="definition",
            name="norm",
        ),
        Step("write out the left side", lhs_norm, first, uses=("backed-up",)),
        Step(
            "|max_a f(a) - max_a g(a)| <= max_a |f(a) - g(a)| (the max is 1-Lipschitz)",
            None,
            max_q,
            relation="<=",
            method="custom",
            custom=_contraction_points(
                first, max_q, "max-of-max differences against max |Q_1 - Q_2|"
            ),
            tolerance=1e-12,
        ),
        Step(
            "the rewards cancel: Q_1 - Q_2 = gamma sum_s' p(s'|s,a) (V_1(s') - V_2(s'))",
            None,
            averaged,
            method="custom",
            custom=_contraction_points(
                max_q, averaged, "max |Q_1 - Q_2| against gamma max |sum p (V_1 - V_2)|"
            ),
            tolerance=1e-12,
        ),
        Step(
            "an average is at most the largest absolute value: |sum_s' p (V_1 - V_2)| <= "
            "max_s' |V_1(s') - V_2(s')| (an inequality; the sheet prints '=')",
            None,
            gamma * sup_norm,
            relation="<=",
            method="custom",
            custom=_contraction_points(
                averaged,
                gamma * sup_norm,
                "gamma max |sum p (V_1 - V_2)| against gamma max |V_1 - V_2|",
            ),
            tolerance=1e-12,
        ),
        Step("that is gamma ||V_1 - V_2||", None, gamma * rhs_norm, uses=("norm",)),
    ]


def _contraction_evidence() -> Evidence:
    import numpy as np

    P, R = _random_mdp(4)
    rng = np.random.default_rng(4)
    V1, V2 = rng.normal(size=(2, P.shape[0]))
    inner = float(np.max(np.abs(np.einsum("sat,t->sa", P, V1 - V2))))
    rhs = float(np.max(np.abs(V1 - V2)))
    equal = abs(inner - rhs) <= 1e-9
    below = inner <= rhs + 1e-12
    return Evidence(
        sheet_fails=not equal,
        correct_passes=below,
        detail=f"random MDP and value pair: max_(s,a) |sum_s' p (V_1 - V_2)| = {inner:.4f}, "
        f"max_s |V_1 - V_2| = {rhs:.4f}: the sheet's '=' "
        f"{verdict_text(equal, 'holds', 'fails')}, '<=' {verdict_text(below, 'holds', 'fails')}",
    )


register(
    Formula(
        id="bellman-contraction",
        title="The Bellman optimality operator is a gamma-contraction (value iteration converges)",
        topic="rl",
        section="13",
        text="max_s |T*V_1(s) - T*V_2(s)| <= gamma max_s |V_1(s) - V_2(s)|; contraction mapping "
        "theorem: unique fixed point V*, lim_k (T*)^k V = V*",
        keywords=(
            "contraction",
            "banach",
            "fixed point",
            "value iteration",
            "convergence",
            "max norm",
            "bellman operator",
        ),
        statement_builder=_contraction_statement,
        derivation_builder=_contraction_derivation,
        sheet_lines=(397, 397),
        erratum=Erratum(
            sheet=r"\ldots = \gamma \max_{s,a} \left|\sum_{s',r} p(s',r|s,a)(V_1(s') - V_2(s'))"
            r"\right| = \text{RHS}",
            correct=r"\gamma \max_{s,a} \left|\sum_{s'} p(s'|s,a)(V_1(s') - V_2(s'))\right| "
            r"\leq \gamma \max_{s} |V_1(s) - V_2(s)| = \text{RHS}",
            explanation="In the proof that T* is a contraction, the sheet ends with "
            "gamma max_{s,a} |sum p (V_1 - V_2)| = RHS. That last step is an inequality, not "
            "an equality: an average of the differences is at most their largest absolute "
            "value, and usually strictly less.",
            evidence=_contraction_evidence,
            severity="error",
            sheet_lines=(397, 397),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# value-iteration: V_{k+1} = T* V_k converges geometrically, not in finitely many steps


def _vi_parts():
    import sympy as sp

    k = sp.Symbol("k", integer=True, positive=True)
    gamma = sp.Symbol("gamma", positive=True)
    return sp, k, gamma


def _vi_statement():
    sp, k, gamma = _vi_parts()
    return sp.Le(_max_norm_gap("V_k"), gamma**k * _max_norm_gap("V_0"))


def _max_norm_gap(name: str, optimum: str = "v_*"):
    """||V - v_*||_oo: the max-norm distance of a value function from the optimal one."""
    import sympy as sp

    value, best = sp.symbols(f"{name} {optimum}", real=True)
    return sp.Function("norm")(value - best, sp.oo)


def value_iteration(P, R, gamma, V, iterations):
    """V_k = (T*)^k V: `iterations` Bellman optimality backups from V."""
    import numpy as np

    V = np.asarray(V, dtype=np.float64)
    for _ in range(int(iterations)):
        V = bellman_optimality_backup(P, R, gamma, V)
    return as_float64(V)


def _vi_runs(route):
    """route(P, R, gamma, V_prev, V_now, v_star, V_0, k) -> number, over 20 iterations of 4
    random MDPs from random starts (v* by brute force over deterministic policies)."""

    def check():
        import numpy as np

        values = []
        for seed in range(4):
            P, R = _random_mdp(seed)
            v_star = _best_deterministic_values(P, R, 0.8)
            V0 = np.random.default_rng(seed).normal(size=P.shape[0]) * 5
            V = V0
            for k in range(1, 21):
                V_next = bellman_optimality_backup(P, R, 0.8, V)
                values.append(route(P, R, 0.8, V, V_next, v_star, V0, k))
                V = V_next
        return np.array(values)

    return check


def _vi_derivation() -> list[Step]:
    import numpy as np

    sp, k, gamma = _vi_parts()
    error_k = _max_norm_gap("V_k")
    error_prev = _max_norm_gap("V_{k-1}")
    error_0 = _max_norm_gap("V_0")

    def norm(x):
        return float(np.max(np.abs(x)))

    def comparison(left, right, detail):
        def check() -> Comparison:
            return Comparison(_vi_runs(left)(), _vi_runs(right)(), detail)

        return check

    return [
        Step(
            "induction hypothesis: ||V_{k-1} - v_*|| <= gamma^{k-1} ||V_0 - v_*|| (at k = 1 it "
            "reads ||V_0 - v_*|| <= ||V_0 - v_*||)",
            error_prev,
            gamma ** (k - 1) * error_0,
            relation="<=",
            premise="assumption",
            name="hypothesis",
        ),
        Step(
            "V_k = T* V_{k-1} and v_* = T* v_* (v_* is the fixed point)",
            error_k,
            _max_norm_gap("T^*V_{k-1}", "T^*v_*"),
            method="custom",
            custom=comparison(
                lambda P, R, g, V, Vn, vs, V0, k: norm(Vn - vs),
                lambda P, R, g, V, Vn, vs, V0, k: norm(
                    bellman_optimality_backup(P, R, g, V) - bellman_optimality_backup(P, R, g, vs)
                ),
                "4 random MDPs x 20 iterations (gamma = 0.8, v_* by brute force over "
                "deterministic policies)",
            ),
            tolerance=1e-10,
        ),
        Step(
            "T* is a gamma-contraction (bellman-contraction)",
            None,
            gamma * error_prev,
            relation="<=",
            method="custom",
            custom=comparison(
                lambda P, R, g, V, Vn, vs, V0, k: norm(Vn - vs),
                lambda P, R, g, V, Vn, vs, V0, k: g * norm(V - vs),
                "4 random MDPs x 20 iterations: ||T*V_{k-1} - v_*|| against gamma ||V_{k-1} "
                "- v_*||",
            ),
            tolerance=1e-12,
        ),
        Step(
            "the induction hypothesis",
            None,
            gamma**k * error_0,
            relation="<=",
            uses=("hypothesis",),
            method="custom",
            custom=comparison(
                lambda P, R, g, V, Vn, vs, V0, k: g * norm(V - vs),
                lambda P, R, g, V, Vn, vs, V0, k: g**k * norm(V0 - vs),
                "4 random MDPs x 20 iterations: gamma ||V_{k-1} - v_*|| against gamma^k "
                "||V_0 - v_*||",
            ),
            tolerance=1e-12,
        ),
    ]


def _vi_evidence() -> Evidence:
    from fractions import Fraction

    import numpy as np

    P, R = _random_mdp(21, states=3, actions=2)
    # exact rational arithmetic: no floating-point fixed point can fake convergence
    Pq = [[[Fraction(x).limit_denominator(50) for x in row] for row in sa] for sa in P]
    Pq = [[[x / sum(row) for x in row] for row in sa] for sa in Pq]
    Rq = [[Fraction(x).limit_denominator(50) for x in row] for row in R]
    gamma = Fraction(9, 10)
    Pf = np.array([[[float(x) for x in row] for row in sa] for sa in Pq])
    Rf = np.array([[float(x) for x in row] for row in Rq])
    v_star = _optimal_values(Pf, Rf, 0.9)
    V = [Fraction(0)] * 3
    start = np.max(np.abs(v_star))
    iterations, equal_at, bound_holds, policies = 60, None, True, []
    for k in range(1, iterations + 1):
        q = [
            [Rq[s][a] + gamma * sum(Pq[s][a][t] * V[t] for t in range(3)) for a in range(2)]
            for s in range(3)
        ]
        new = [max(row) for row in q]
        policies.append(tuple(int(np.argmax([float(x) for x in row])) for row in q))
        error = np.max(np.abs(np.array([float(x) for x in new]) - v_star))
        bound_holds &= bool(error <= 0.9**k * start + 1e-12)
        if new == V:
            equal_at = k
            break
        V = new
    stable_from = next(k for k in range(len(policies)) if len(set(policies[k:])) == 1)
    stopped = (
        f"V_old = V_new exactly at iteration {equal_at}"
        if equal_at is not None
        else f"V_old != V_new in all {iterations} iterations"
    )
    return Evidence(
        sheet_fails=equal_at is None,
        correct_passes=bound_holds,
        detail=f"value iteration in exact rational arithmetic on a random 3-state MDP: {stopped}; "
        f"the error gamma^k bound {verdict_text(bound_holds, 'holds', 'fails')} throughout; the "
        f"greedy policy is fixed from iteration {stable_from + 1} on",
    )


register(
    Formula(
        id="value-iteration",
        title="Value iteration and its convergence rate",
        topic="rl",
        section="7.1",
        text="value iteration: compute optimal v_* by V_{k+1} = T* V_k, then pi_*; "
        "||V_k - v_*|| <= gamma^k ||V_0 - v_*||: geometric convergence; the greedy policy "
        "becomes optimal after finitely many steps; needs knowledge of p, iterates over all "
        "states, O(|S|) memory; policy iteration computes v_pi and pi together",
        keywords=(
            "value iteration",
            "policy iteration",
            "convergence",
            "dynamic programming",
            "geometric",
            "finite steps",
        ),
        statement_builder=_vi_statement,
        derivation_builder=_vi_derivation,
        evaluator=value_iteration,
        sheet_lines=(197, 201),
        erratum=Erratum(
            sheet=r"\text{when } V^*_{old} = V^*_{new} \text{ we have the optimal policy. "
            r"Converges in finite steps}",
            correct=r"\|V_k - v_*\|_\infty \le \gamma^k \|V_0 - v_*\|_\infty \text{ (the "
            r"values converge in the limit; the greedy policy is optimal after finitely many "
            r"steps)}",
            explanation="The sheet says value iteration converges in finitely many steps and "
            "stops when V_old = V_new. The values reach v_* only in the limit (the error "
            "shrinks like gamma^k), so V_old = V_new generally never happens exactly; in "
            "practice one stops when ||V_new - V_old|| is small. It is the greedy policy (and "
            "policy iteration) that settles after finitely many steps.",
            evidence=_vi_evidence,
            severity="error",
            sheet_lines=(199, 201),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# greedy-policy: pi'(s) = argmax_a (r(s,a) + gamma V(p(s,a))): an improvement, not optimal


def _greedy_statement():
    import sympy as sp

    s, a, s2 = sp.symbols("s a s'")
    gamma = sp.Symbol("gamma", positive=True)
    P, R, V = sp.Function("P"), sp.Function("R"), sp.Function("V_pi")
    q = R(s, a) + gamma * sp.Sum(P(s, a, s2) * V(s2), (s2, sp.Symbol("S_1"), sp.Symbol("S_n")))
    return sp.Eq(sp.Function("pi'")(s), sp.Function("argmax_a")(q))


def greedy_policy(P, R, gamma, V):
    """pi'(s) = argmax_a (R[s,a] + gamma sum_s' P[s,a,s'] V[s']); an int64 array of actions."""
    import numpy as np

    return np.argmax(_q_from_v(P, R, gamma, V), axis=-1).astype(np.int64)


def _greedy_values(seed, gamma=0.9):
    """(v_pi, v_greedy, v_*) for a random MDP and a random stochastic policy pi."""
    import numpy as np

    P, R = _random_mdp(seed)
    policy = _random_policy(seed, *R.shape)
    v, _ = _policy_values(P, R, gamma, policy)
    greedy = np.eye(R.shape[1])[greedy_policy(P, R, gamma, v)]
    v_greedy, _ = _policy_values(P, R, gamma, greedy)
    return v, v_greedy, _best_deterministic_values(P, R, gamma)


def _greedy_properties() -> list[Step]:
    import numpy as np

    def improvement() -> Comparison:
        rows = [_greedy_values(seed) for seed in range(5)]
        return Comparison(
            np.concatenate([row[1] for row in rows]),
            np.concatenate([row[0] for row in rows]),
            "5 random MDPs and stochastic policies: v_{pi'} (greedy w.r.t. v_pi, exact solve) "
            "against v_pi, state by state",
        )

    def optimal_at_v_star() -> Comparison:
        left, right = [], []
        for seed in range(5):
            P, R = _random_mdp(seed)
            v_star = _best_deterministic_values(P, R, 0.9)
            greedy = np.eye(R.shape[1])[greedy_policy(P, R, 0.9, v_star)]
            left.append(_policy_values(P, R, 0.9, greedy)[0])
            right.append(v_star)
        return Comparison(
            np.concatenate(left),
            np.concatenate(right),
            "5 random MDPs: the greedy policy w.r.t. v_* has value v_* (brute force)",
        )

    return [
        Step(
            "policy improvement theorem: the greedy policy w.r.t. v_pi is at least as good as "
            "pi in every state",
            relation=">=",
            custom=improvement,
            tolerance=1e-10,
        ),
        Step("greedy w.r.t. v_* is optimal", custom=optimal_at_v_star, tolerance=1e-10),
    ]


register(
    Formula(
        id="greedy-policy",
        title="Greedy policy w.r.t. a value function (policy improvement)",
        topic="rl",
        section="7.1",
        text="pi'(s) = argmax_{a in A} (r(s,a) + gamma V_pi(p(s,a))) (an improvement on pi; "
        "optimal once V = v_*); policy iteration alternates "
        "evaluation and greedy improvement; epsilon-greedy explores with prob. epsilon",
        keywords=("greedy", "policy improvement", "policy iteration", "argmax", "epsilon-greedy"),
        statement_builder=_greedy_statement,
        evaluator=greedy_policy,
        definition=True,
        properties_builder=_greedy_properties,
        sheet_lines=(197, 197),
    )
)


def _chain_mdp(states: int = 5):
    """A corridor: action 0 steps left, action 1 steps right (the last state keeps itself);
    stepping right costs 0.01 except in the last state, where it earns 1 each time."""
    import numpy as np

    P = np.zeros((states, 2, states))
    R = np.zeros((states, 2))
    for s in range(states):
        P[s, 0, max(s - 1, 0)] = 1.0
        P[s, 1, min(s + 1, states - 1)] = 1.0
        R[s, 1] = 1.0 if s == states - 1 else -0.01
    return P, R


def _greedy_optimal_evidence() -> Evidence:
    import numpy as np

    P, R = _chain_mdp()
    always_left = np.eye(2)[np.zeros(P.shape[0], dtype=int)]
    v, _ = _policy_values(P, R, 0.9, always_left)
    greedy = greedy_policy(P, R, 0.9, v)
    v_greedy, _ = _policy_values(P, R, 0.9, np.eye(2)[greedy])
    v_star = _best_deterministic_values(P, R, 0.9)
    improves = bool(np.all(v_greedy >= v - 1e-10))
    gap = float(np.max(v_star - v_greedy))
    return Evidence(
        sheet_fails=gap > 1e-6,
        correct_passes=improves,
        detail=f"5-state corridor (reward at the right end), pi = always left, v_pi = "
        f"{np.round(v, 3).tolist()}: the greedy policy w.r.t. v_pi takes actions "
        f"{greedy.tolist()} with values {np.round(v_greedy, 3).tolist()}; v_* = "
        f"{np.round(v_star, 3).tolist()} (largest shortfall {gap:.3f}: "
        f"{verdict_text(gap > 1e-6, 'not optimal', 'optimal')}); it "
        f"{verdict_text(improves, 'improves on', 'does not improve on')} v_pi in every state",
    )


register_claim(
    Claim(
        id="rl-greedy-policy-optimal",
        topic="rl",
        section="7.1",
        sheet_lines=(197, 197),
        sheet="For any V_pi the greedy policy (optimal) is pi'(s) = argmax_a (r(s, a) + gamma "
        "V_pi(p(s, a)))",
        verdict="error",
        explanation="Greedy with respect to the value of an arbitrary policy pi is only an "
        "improvement (policy improvement theorem: v_pi' >= v_pi); it is optimal when V_pi is "
        "already v_* (then pi is optimal too). That is why policy iteration has to repeat "
        "evaluation and improvement.",
        source="Sutton & Barto, Reinforcement Learning (2nd ed.), Sec. 4.2 (policy improvement)",
        check=_greedy_optimal_evidence,
        correct="For any V_pi the greedy policy pi'(s) = argmax_a (r(s,a) + gamma V_pi(p(s,a))) "
        "is at least as good as pi (an improvement); it is optimal when V_pi = v_*.",
    )
)


# --------------------------------------------------------------------------------------------
# td0-update: V(s) <- V(s) + alpha (r + gamma V(s') - V(s))


def _td_statement():
    import sympy as sp

    s, s_next, r, alpha = sp.symbols("s s' r alpha", real=True)
    V, V_new = sp.Function("V"), sp.Function("V_new")
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(V_new(s), V(s) + alpha * (r + gamma * V(s_next) - V(s)))


def td0_update(V, s, r, s_next, gamma, alpha):
    """TD(0): V(s) += alpha (r + gamma V(s') - V(s)); returns the new table (a copy)."""
    import numpy as np

    V = np.array(V, dtype=np.float64)
    s, s_next = int(s), int(s_next)
    V[s] += alpha * (r + gamma * V[s_next] - V[s])
    return as_float64(V)


register(
    Formula(
        id="td0-update",
        title="Temporal-difference TD(0) update",
        topic="rl",
        section="7.3",
        text="for each s -> s' by action a: Delta V(s) = r(s,a) + gamma V(s') - V(s) (the TD "
        "error), V(s) += alpha Delta V(s); bootstraps from V(s')",
        keywords=("td", "temporal difference", "td error", "td(0)", "bootstrap", "update"),
        statement_builder=_td_statement,
        evaluator=td0_update,
        sheet_lines=(205, 205),
    )
)


# --------------------------------------------------------------------------------------------
# sarsa-update and q-learning-update, with the sheet's index errors


def _expected_td_error(P, R, gamma, Q, target):
    """E_{s'}[target(s') ] - Q(s,a) for every (s, a): the expected TD error of an update rule."""
    import numpy as np

    return R + gamma * np.einsum("sat,sat->sa", P, target) - Q


def _sarsa_evidence() -> Evidence:
    import numpy as np

    P, R = _random_mdp(11)
    rng = np.random.default_rng(11)
    policy = rng.random(R.shape)
    policy /= policy.sum(axis=1, keepdims=True)
    _, q_pi = _policy_values(P, R, 0.9, policy)
    S, A = R.shape
    # right: the next action A' ~ pi(.|S') -> E[Q(S', A')] = sum_a' pi(a'|s') Q(s', a')
    right_target = np.broadcast_to(np.einsum("ta,ta->t", policy, q_pi), (S, A, S))
    # sheet: Q(S', A) reuses the current action A at the next state
    sheet_target = np.transpose(np.broadcast_to(q_pi, (S, S, A)), (0, 2, 1))
    right = np.max(np.abs(_expected_td_error(P, R, 0.9, q_pi, right_target)))
    sheet = np.max(np.abs(_expected_td_error(P, R, 0.9, q_pi, sheet_target)))
    return Evidence(
        sheet_fails=bool(sheet > 1e-3),
        correct_passes=bool(right < 1e-10),
        detail=f"at the true q_pi (linear solve, random MDP, stochastic pi) the expected SARSA "
        f"TD error is {right:.1e} with Q(S',A') and {sheet:.3f} with the sheet's Q(S',A): q_pi "
        f"{verdict_text(sheet > 1e-3, 'is not', 'is')} a fixed point of the sheet's rule",
    )


def _sarsa_statement():
    import sympy as sp

    S, A, S_next, A_next, r, alpha = sp.symbols("S A S' A' r alpha", real=True)
    Q, Q_new = sp.Function("Q"), sp.Function("Q_new")
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(Q_new(S, A), Q(S, A) + alpha * (r + gamma * Q(S_next, A_next) - Q(S, A)))


def sarsa_update(Q, s, a, r, s_next, a_next, gamma, alpha):
    """SARSA: Q(S,A) += alpha (r + gamma Q(S',A') - Q(S,A)), A' the next action taken."""
    import numpy as np

    Q = np.array(Q, dtype=np.float64)
    s, a, s_next, a_next = int(s), int(a), int(s_next), int(a_next)
    Q[s, a] += alpha * (r + gamma * Q[s_next, a_next] - Q[s, a])
    return as_float64(Q)


register(
    Formula(
        id="sarsa-update",
        title="SARSA update (on-policy TD control)",
        topic="rl",
        section="7.4",
        text="for each S -> S' by action A, then A' from the policy: Delta Q(S,A) = r(S,A) + "
        "gamma Q(S',A') - Q(S,A), Q(S,A) += alpha Delta Q(S,A); alpha is the learning rate",
        keywords=(
            "sarsa",
            "on-policy",
            "td control",
            "q-value",
            "state action reward state action",
        ),
        statement_builder=_sarsa_statement,
        evaluator=sarsa_update,
        sheet_lines=(209, 209),
        erratum=Erratum(
            sheet=r"\Delta Q(S, A) = r(S, A) + \gamma Q(S', A) - Q(S, A)",
            correct=r"\Delta Q(S, A) = r(S, A) + \gamma Q(S', A') - Q(S, A)",
            explanation="In the sheet's SARSA update the target is r + gamma Q(S', A), the old "
            "action A at the new state. SARSA bootstraps from the action A' actually taken in "
            "S' (the second A of S-A-R-S'-A'); a missing prime, the intent is clear.",
            evidence=_sarsa_evidence,
            severity="typo",
            sheet_lines=(209, 209),
        ),
    )
)


def _q_learning_evidence() -> Evidence:
    import numpy as np

    P, R = _random_mdp(12)
    S, A = R.shape
    q_star = _q_from_v(P, R, 0.9, _optimal_values(P, R, 0.9))
    right_target = np.broadcast_to(q_star.max(axis=1), (S, A, S))
    # the sheet's max_{a'} Q(S', a): nothing depends on a', so it is Q(S', A) for the current A
    sheet_target = np.transpose(np.broadcast_to(q_star, (S, S, A)), (0, 2, 1))
    right = np.max(np.abs(_expected_td_error(P, R, 0.9, q_star, right_target)))
    sheet = np.max(np.abs(_expected_td_error(P, R, 0.9, q_star, sheet_target)))
    return Evidence(
        sheet_fails=bool(sheet > 1e-3),
        correct_passes=bool(right < 1e-10),
        detail=f"at q* (value iteration to 1e-13) the expected Q-learning TD error is {right:.1e} "
        f"with max_a' Q(S',a') but {sheet:.3f} with the sheet's max_a' Q(S',a)",
    )


def _q_learning_statement():
    import sympy as sp

    S, A, S_next, a_next, r, alpha = sp.symbols("S A S' a' R_{t+1} alpha", real=True)
    Q, Q_new = sp.Function("Q"), sp.Function("Q_new")
    best_next = sp.Function("max_a'")(Q(S_next, a_next))  # max over the next action a'
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(Q_new(S, A), Q(S, A) + alpha * (r + gamma * best_next - Q(S, A)))


def q_learning_update(Q, s, a, r, s_next, gamma, alpha):
    """Q-learning: Q(S,A) += alpha (r + gamma max_a' Q(S',a') - Q(S,A))."""
    import numpy as np

    Q = np.array(Q, dtype=np.float64)
    s, a, s_next = int(s), int(a), int(s_next)
    Q[s, a] += alpha * (r + gamma * Q[s_next].max() - Q[s, a])
    return as_float64(Q)


register(
    Formula(
        id="q-learning-update",
        title="Q-learning update (off-policy TD control)",
        topic="rl",
        section="7.4",
        text="Delta Q(S,A) = R_{t+1} + gamma max_{a'} Q(S',a') - Q(S,A); off-policy: the target "
        "uses the greedy action whatever the behaviour policy did; q_pi(s,a) := E[G_t|S_t=s,A_t=a]",
        keywords=("q-learning", "off-policy", "q-value", "max", "td control", "watkins"),
        statement_builder=_q_learning_statement,
        evaluator=q_learning_update,
        sheet_lines=(207, 211),
        erratum=Erratum(
            sheet=r"\Delta Q(S, A) = R_{t+1} + \gamma \max_{a'} Q(S', a) - Q(S, A)",
            correct=r"\Delta Q(S, A) = R_{t+1} + \gamma \max_{a'} Q(S', a') - Q(S, A)",
            explanation="In the sheet's Q-learning target max_{a'} Q(S', a) the max runs over a' "
            "but the argument is a: as printed the max is vacuous and the target is Q(S', a) "
            "for one fixed a. An index slip; the intent (max over the next action) is clear.",
            evidence=_q_learning_evidence,
            severity="typo",
            sheet_lines=(211, 211),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# dqn-loss: (R + gamma max_a' Q_target(S',a') - Q_theta(S,A))^2, gradient only through Q(S,A)


def _dqn_statement():
    import sympy as sp

    S, A, S_next, a_next, r, theta = sp.symbols("S A S' a' R theta", real=True)
    Q, Q_theta = sp.Function("Q"), sp.Function("Q_theta")
    best_next = sp.Function("max_a'")(Q(S_next, a_next))  # the target network's max over a'
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(sp.Function("L")(theta), (r + gamma * best_next - Q_theta(S, A)) ** 2)


def dqn_loss(q, action, reward, q_next, gamma, done=0.0):
    """(R + gamma (1 - done) max_a' Q(S', a') - Q(S, A))^2; q, q_next [..., actions],
    action an integer array; the target is a constant (no gradient flows through it)."""
    import numpy as np

    q = np.asarray(q, dtype=np.float64)
    q_next = np.asarray(q_next, dtype=np.float64)
    action = np.asarray(action, dtype=np.int64)
    q_sa = np.take_along_axis(q, action[..., None], axis=-1)[..., 0]
    target = np.asarray(reward) + gamma * (1.0 - np.asarray(done)) * q_next.max(axis=-1)
    return as_float64((target - q_sa) ** 2)


register(
    Formula(
        id="dqn-loss",
        title="Deep Q-learning loss",
        topic="rl",
        section="7.5",
        text="loss (R + gamma max_{a'} Q_theta(S',a') - Q_theta(S,A))^2, backprop only through "
        "Q_theta(S,A) (the target is held fixed); replay buffer breaks sample correlation",
        keywords=("dqn", "deep q", "replay buffer", "target network", "q-network", "td target"),
        statement_builder=_dqn_statement,
        evaluator=dqn_loss,
        sheet_lines=(215, 215),
    )
)


# --------------------------------------------------------------------------------------------
# policy-gradient: grad J = E_tau[grad log p(tau) r(tau)], the dynamics drop out


def _pg_sides():
    """nabla_theta J(theta) and E_tau[(sum_t nabla_theta log pi_theta(a_t|s_t)) (sum_t gamma^t
    r(s_t, a_t))] over the horizon t = 1..T (states s_t, actions a_t: sequences)."""
    import sympy as sp

    from formulas.notation import conditional, expectation, gradient

    theta = sp.Symbol("theta", real=True)
    t = sp.Symbol("t", integer=True, positive=True)
    T = sp.Symbol("T", integer=True, positive=True)
    gamma = sp.Symbol("gamma", positive=True)
    s, a = sp.IndexedBase("s"), sp.IndexedBase("a")
    nabla = gradient("theta")
    score = sp.Sum(nabla(sp.log(conditional("pi_theta")(a[t], s[t]))), (t, 1, T))
    discounted = sp.Sum(gamma**t * sp.Function("r")(s[t], a[t]), (t, 1, T))
    return nabla(sp.Function("J")(theta)), expectation(r"\tau", "τ")(score * discounted)


def _pg_statement():
    import sympy as sp

    return sp.Eq(*_pg_sides())


def _two_step_policy_gradient(seed: int):
    """A random 2-state, 2-action MDP over T = 2 steps with a softmax policy pi_theta(a|s):
    (finite-difference grad of J(theta) = sum_tau p(tau) r(tau), and the enumerated
    E_tau[(sum_t grad log pi(a_t|s_t)) (sum_t gamma^t r(s_t, a_t))])."""
    import itertools

    import numpy as np

    rng = np.random.default_rng(seed)
    S, A, T, gamma = 2, 2, 2, 0.9
    start = rng.dirichlet(np.ones(S))
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.normal(size=(S, A))
    theta = rng.normal(size=(S, A))

    def policy(th):
        e = np.exp(th - th.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def trajectories(th):
        pi = policy(th)
        for states in itertools.product(range(S), repeat=T):
            for actions in itertools.product(range(A), repeat=T):
                prob = start[states[0]]
                for t in range(T):
                    prob *= pi[states[t], actions[t]]
                    if t + 1 < T:
                        prob *= P[states[t], actions[t], states[t + 1]]
                reward = sum(gamma**t * R[states[t], actions[t]] for t in range(T))
                yield states, actions, prob, reward

    def J(th):
        return sum(prob * reward for _, _, prob, reward in trajectories(th))

    h = 1e-6
    finite_difference = np.zeros_like(theta)
    for index in np.ndindex(*theta.shape):
        step = np.zeros_like(theta)
        step[index] = h
        finite_difference[index] = (J(theta + step) - J(theta - step)) / (2 * h)
    pi = policy(theta)
    estimate = np.zeros_like(theta)
    for states, actions, prob, reward in trajectories(theta):
        score = np.zeros_like(theta)
        for s, a in zip(states, actions):  # grad log softmax: onehot(a) - pi(.|s) in row s
            score[s] -= pi[s]
            score[s, a] += 1
        estimate += prob * score * reward
    return finite_difference.ravel(), estimate.ravel()


def _pg_derivation() -> list[Step]:
    import numpy as np
    import sympy as sp

    theta = sp.Symbol("theta", real=True)
    # finite horizon, finite S and A: trajectories tau = 1..M (for continuous spaces the sums
    # are integrals and every step reads the same)
    tau = sp.Symbol("tau", integer=True, positive=True)
    bounds = (tau, 1, sp.Symbol("M", integer=True, positive=True))
    p = sp.Function("p_theta")(theta, tau)  # trajectory density
    rho = sp.Function("rho")(tau)  # p(s_1) prod_t p(s_{t+1} | a_t, s_t): free of theta
    policy_product = sp.Function("Pi_theta")(theta, tau)  # prod_t pi_theta(a_t | s_t)
    reward = sp.Function("r")(tau)  # sum_t gamma^t r(s_t, a_t)
    gradient, expectation = _pg_sides()

    def check() -> Comparison:
        left, right = zip(*(_two_step_policy_gradient(seed) for seed in range(3)))
        return Comparison(
            np.concatenate(left),
            np.concatenate(right),
            "3 random 2-state, 2-action MDPs, T = 2, softmax policy: finite-difference "
            "gradient of J against E_tau[(sum_t grad log pi)(sum_t gamma^t r)] by "
            "enumerating all 16 trajectories",
        )

    return [
        Step(
            "J(theta) = E_{tau ~ p_theta}[r(tau)] = sum_tau p_theta(tau) r(tau) with r(tau) = "
            "sum_t gamma^t r(s_t, a_t)",
            gradient,
            sp.Derivative(sp.Sum(p * reward, bounds), theta),
            premise="definition",
            name="objective",
        ),
        Step(
            "p_theta(tau) = p(s_1) prod_t pi_theta(a_t|s_t) p(s_{t+1}|a_t,s_t) = rho(tau) "
            "Pi_theta(tau): only Pi_theta(tau) = prod_t pi_theta(a_t|s_t) depends on theta",
            p,
            rho * policy_product,
            premise="definition",
            name="trajectory",
        ),
        Step(
            "notation: E_tau[f] = sum_tau p_theta(tau) f(tau), and sum_t grad log "
            "pi_theta(a_t|s_t) = grad log Pi_theta(tau) (log of a product)",
            expectation,
            sp.Sum(p * sp.Derivative(sp.log(policy_product), theta) * reward, bounds),
            premise="definition",
            name="notation",
        ),
        Step(
            "check of the whole statement on small MDPs (independent of the algebra below)",
            sp.Symbol("nabla_theta J(theta) (2-step MDP)"),
            sp.Symbol("E_tau[...] (2-step MDP)"),
            premise="lemma",
            name="check",
            method="custom",
            custom=check,
            tolerance=1e-7,
        ),
        Step(
            "the gradient of the objective",
            gradient,
            sp.Derivative(sp.Sum(p * reward, bounds), theta),
            uses=("objective",),
        ),
        Step(
            "differentiate under the sum (the set of trajectories does not depend on theta)",
            None,
            sp.Sum(sp.Derivative(p, theta) * reward, bounds),
        ),
        Step(
            "log-derivative trick: grad p = p grad log p",
            None,
            sp.Sum(p * sp.Derivative(sp.log(p), theta) * reward, bounds),
        ),
        Step(
            "log p_theta(tau) = log rho(tau) + log Pi_theta(tau); the initial-state and dynamics "
            "terms have zero gradient, so no model of p is needed",
            None,
            sp.Sum(p * sp.Derivative(sp.log(policy_product), theta) * reward, bounds),
            uses=("trajectory",),
        ),
        Step(
            "that is the expectation over trajectories: max likelihood of the actions, "
            "weighted by the trajectory's reward",
            None,
            expectation,
            uses=("notation", "check"),
        ),
    ]


register(
    Formula(
        id="policy-gradient",
        title="Policy-gradient theorem (score-function / REINFORCE identity)",
        topic="rl",
        section="7.7, 13",
        text="J(theta) = E_{tau ~ p_theta}[sum_t gamma^t r(s_t,a_t)]; p(tau) = p(s_1) prod "
        "pi(a_t|s_t) p(s_{t+1}|a_t,s_t); grad J = E[grad log p(tau) r(tau)] = E[(sum_t grad log "
        "pi(a_t|s_t))(sum_t gamma^t r_t)]: max likelihood weighted by trajectory reward; on-policy",
        keywords=(
            "policy gradient",
            "reinforce",
            "score function",
            "log-derivative trick",
            "likelihood ratio",
            "trajectory",
            "on-policy",
            "objective",
        ),
        statement_builder=_pg_statement,
        derivation_builder=_pg_derivation,
        sheet_lines=(219, 221),
    )
)


def _log_trajectory_evidence() -> Evidence:
    """log p(tau) against sum_t log pi (the sheet's line) and their gradients (the intent)."""
    import numpy as np

    rng = np.random.default_rng(5)
    start, transition = 0.3, 0.6  # p(s_1), p(s_2 | a_1, s_1)
    theta = rng.normal(size=2)

    def log_pi(th):  # log pi_theta(a_1|s_1) + log pi_theta(a_2|s_2): two softmax draws
        return float(th[0] - np.log(np.exp(th).sum()) + th[1] - np.log(np.exp(th).sum()))

    def log_p(th):
        return np.log(start) + log_pi(th) + np.log(transition)

    h = 1e-6

    def grad(f):
        return np.array(
            [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
        )

    values = compare_forms(
        reference=log_p(theta),
        sheet=log_pi(theta),
        correct=log_p(theta),
        reference_name="log p(tau) of a 2-step trajectory (p(s_1) = 0.3, p(s_2|a_1,s_1) = 0.6)",
        tolerance=1e-9,
    )
    gradients = compare_forms(
        reference=grad(log_p),
        sheet=grad(log_pi),
        correct=grad(log_pi),
        reference_name="grad_theta log p(tau) by finite differences",
        tolerance=1e-6,
    )
    return Evidence(
        sheet_fails=values.sheet_fails,
        correct_passes=gradients.correct_passes,
        detail=f"{values.detail}. With the gradient: {gradients.detail}",
    )


register_claim(
    Claim(
        id="rl-policy-gradient-log-trajectory",
        topic="rl",
        section="13",
        sheet_lines=(405, 405),
        sheet="log p(tau) = log[p(s_1) prod pi_theta(a_t|s_t) p(s_{t+1}|a_t,s_t)] = 0 + sum_t log "
        "pi_theta(a_t|s_t) + 0",
        verdict="typo",
        explanation="In the policy-gradient proof the zeros are the gradients of log p(s_1) and "
        "of the dynamics terms, which do not depend on theta; log p(s_1) and log p(s_{t+1}|a_t,"
        "s_t) themselves are not 0. The line needs grad_theta on both sides: grad_theta log "
        "p(tau) = 0 + sum_t grad_theta log pi_theta(a_t|s_t) + 0.",
        source="Williams 1992; Sutton & Barto (2nd ed.), Sec. 13.3; Levine, CS285 lecture 5",
        check=_log_trajectory_evidence,
        correct="grad_theta log p(tau) = 0 + sum_t grad_theta log pi_theta(a_t|s_t) + 0",
    )
)

register_claim(
    Claim(
        id="rl-policy-gradient-repeated-line",
        topic="rl",
        section="13",
        sheet_lines=(403, 403),
        sheet="E_{tau ~ p(tau)}[grad_theta log p(tau) r(tau)] = E_{tau ~ p(tau)}[grad_theta log "
        "p(tau) r(tau)]",
        verdict="typo",
        explanation="The proof line states the same expectation on both sides (a repeated "
        "line): the step it should make is to expand log p(tau) (next line) and get E[(sum_t "
        "grad log pi_theta(a_t|s_t)) r(tau)]. Nothing is false, nothing is derived.",
        source="Sutton & Barto (2nd ed.), Sec. 13.3",
        check=None,
        correct="E_tau[grad_theta log p(tau) r(tau)] = E_tau[(sum_t grad_theta log "
        "pi_theta(a_t|s_t)) r(tau)]",
    )
)


# --------------------------------------------------------------------------------------------
# reinforce-gradient: Monte Carlo estimate with a baseline, for a softmax (categorical) policy


def _sampled_trajectories():
    """N sampled trajectories tau_i of T steps: states s_{i,t}, actions a_{i,t}, the policy
    pi_theta(a | s) and its score d/dtheta log pi_theta(a_{i,t} | s_{i,t})."""
    import sympy as sp

    from formulas.notation import conditional

    theta = sp.Symbol("theta", real=True)
    i, t = sp.symbols("i t", integer=True)
    N, T = sp.symbols("N T", integer=True, positive=True)
    a, s = sp.IndexedBase("a"), sp.IndexedBase("s")
    score = sp.Derivative(sp.log(conditional("pi_theta")(a[i, t], s[i, t])), theta)
    return sp, i, t, N, T, a, s, score


def _reinforce_statement():
    sp, i, t, N, T, a, s, score = _sampled_trajectories()
    b = sp.Symbol("b", real=True)
    tau = sp.IndexedBase("tau")
    estimate = sp.Sum(sp.Sum(score, (t, 1, T)) * (sp.Function("r")(tau[i]) - b), (i, 1, N)) / N
    return sp.Eq(sp.Symbol("g_hat"), estimate)  # g_hat: the estimate of grad_theta J


def _reinforce_properties() -> list[Step]:
    import numpy as np
    import sympy as sp

    logits = sp.symbols("theta_1:4", real=True)
    b = sp.Symbol("b", real=True)
    Z = sum(sp.exp(x) for x in logits)
    probs = [sp.exp(x) / Z for x in logits]

    def unbiased() -> Comparison:
        left, right = [], []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            theta, rewards, baseline = rng.normal(size=3), rng.normal(size=3), rng.normal()
            pi = np.exp(theta) / np.exp(theta).sum()
            # E_a[estimate] by enumerating the three actions (each drawn with pi(a))
            expected = sum(
                pi[a] * reinforce_gradient(theta, [a], [rewards[a]], baseline) for a in range(3)
            )
            # the exact gradient of E[r] = sum_a pi(a) r(a): d pi_a / d theta_j
            exact = (np.diag(pi) - np.outer(pi, pi)) @ rewards
            left.append(expected)
            right.append(exact)
        return Comparison(
            np.concatenate(left),
            np.concatenate(right),
            "5 random softmax policies over 3 actions: the estimator's expectation (exact, "
            "over the actions) against the analytic gradient of E[r], with a random baseline",
        )

    return [
        Step(
            "a baseline adds no bias: E[grad log pi(a) b] = b grad sum_a pi(a) = 0 "
            "(softmax over three actions, d/d theta_1)",
            sum(pr * sp.diff(sp.log(pr), logits[0]) * b for pr in probs),
            sp.Integer(0),
        ),
        Step(
            "the estimate with a baseline is unbiased for grad E[r]",
            custom=unbiased,
            tolerance=1e-12,
        ),
    ]


def reinforce_gradient(logits, actions, rewards, baseline=0.0):
    """REINFORCE estimate of grad_logits E_{a ~ softmax(logits)}[r] from samples:
    mean_i (onehot(a_i) - softmax(logits)) (r_i - b); onehot - softmax = grad log pi(a)."""
    import numpy as np

    logits = np.asarray(logits, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.int64)
    rewards = np.asarray(rewards, dtype=np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    score = np.eye(logits.shape[-1])[actions] - probs
    return as_float64(np.mean(score * (rewards - baseline)[..., None], axis=0))


register(
    Formula(
        id="reinforce-gradient",
        title="REINFORCE gradient estimate with a baseline",
        topic="rl",
        section="7.7",
        text="REINFORCE: Monte Carlo sampling of tau; to reduce variance subtract a baseline "
        "b(s_t) from the reward; the estimate stays unbiased",
        keywords=(
            "reinforce",
            "baseline",
            "variance reduction",
            "monte carlo",
            "policy gradient",
            "softmax policy",
        ),
        statement_builder=_reinforce_statement,
        evaluator=reinforce_gradient,
        definition=True,
        properties_builder=_reinforce_properties,
        sheet_lines=(223, 223),
    )
)


# --------------------------------------------------------------------------------------------
# actor-critic-advantage: r + gamma V(s') - V(s)


def _ac_statement():
    sp, i, t, N, T, a, s, score = _sampled_trajectories()
    gamma = sp.Symbol("gamma", positive=True)
    r, V = sp.Function("r"), sp.Function("V")
    advantage = r(s[i, t], a[i, t]) + gamma * V(s[i, t + 1]) - V(s[i, t])
    estimate = sp.Sum(sp.Sum(score * advantage, (t, 1, T)), (i, 1, N)) / N
    return sp.Eq(sp.Symbol("g_hat"), estimate)  # g_hat: the estimate of grad_theta J


def _ac_properties() -> list[Step]:
    import numpy as np

    def advantage() -> Comparison:
        left, right = [], []
        for seed in range(5):
            P, R = _random_mdp(seed)
            policy = _random_policy(seed, *R.shape)
            v, q = _policy_values(P, R, 0.9, policy)
            expected_td = np.einsum(
                "sat,sat->sa", P, actor_critic_advantage(R[:, :, None], v[:, None, None], v, 0.9)
            )
            left.append(expected_td.ravel())
            right.append((q - v[:, None]).ravel())
        return Comparison(
            np.concatenate(left),
            np.concatenate(right),
            "5 random MDPs and policies: E_{s'}[r + gamma v_pi(s') - v_pi(s)] against "
            "q_pi(s,a) - v_pi(s) (exact solves)",
        )

    return [
        Step(
            "with V = v_pi the TD error is an unbiased estimate of the advantage "
            "A(s,a) = q_pi(s,a) - v_pi(s)",
            custom=advantage,
            tolerance=1e-10,
        )
    ]


def actor_critic_advantage(reward, value, next_value, gamma):
    """TD advantage r(s,a) + gamma V(s') - V(s) that weights grad log pi in actor-critic."""
    import numpy as np

    return as_float64(
        np.asarray(reward, dtype=np.float64) + gamma * np.asarray(next_value) - np.asarray(value)
    )


register(
    Formula(
        id="actor-critic-advantage",
        title="Actor-critic gradient with the TD advantage",
        topic="rl",
        section="7.8",
        text="grad J = 1/N sum_i sum_t grad log pi(a_t|s_t) (r(s_t,a_t) + gamma V(s_{t+1}) - "
        "V(s_t)); pi = actor, V = critic (a NN value estimate instead of trajectory rollouts)",
        keywords=("actor-critic", "advantage", "critic", "actor", "td error", "a2c"),
        statement_builder=_ac_statement,
        evaluator=actor_critic_advantage,
        definition=True,
        properties_builder=_ac_properties,
        sheet_lines=(225, 225),
    )
)


# --------------------------------------------------------------------------------------------
# claims in words (section 7), decided against Sutton & Barto and the papers


def _word_claim(claim_id, section, lines, sheet, explanation, source, check=None):
    register_claim(
        Claim(
            id=claim_id,
            topic="rl",
            section=section,
            sheet_lines=lines,
            sheet=sheet,
            verdict="correct",
            explanation=explanation,
            source=source,
            check=check,
        )
    )


def _monte_carlo_evidence() -> Evidence:
    """First-visit Monte Carlo returns on a random MDP: unbiased mean, high spread."""
    import numpy as np

    P, R = _random_mdp(2)
    policy = _random_policy(2, *R.shape)
    v, _ = _policy_values(P, R, 0.9, policy)
    rng = np.random.default_rng(2)
    returns = []
    for _ in range(4000):
        s, G, discount = 0, 0.0, 1.0
        for _ in range(200):  # 0.9^200 < 1e-9: the truncation is negligible
            a = rng.choice(R.shape[1], p=policy[s])
            G += discount * R[s, a]
            discount *= 0.9
            s = rng.choice(P.shape[0], p=P[s, a])
        returns.append(G)
    returns = np.array(returns)
    error = abs(returns.mean() - v[0])
    tolerance = 5 * returns.std() / np.sqrt(len(returns))
    unbiased = bool(error < tolerance)
    return Evidence(
        sheet_fails=not unbiased,
        correct_passes=unbiased,
        detail=f"4000 sampled returns from state 0 of a random MDP: mean {returns.mean():.3f}, "
        f"v_pi(0) = {v[0]:.3f} by linear solve (gap {error:.3f}, 5 standard errors "
        f"{tolerance:.3f}: {verdict_text(unbiased, 'unbiased', 'biased')}); one return's "
        f"standard deviation {returns.std():.3f}",
    )


_word_claim(
    "rl-dp-mc-td",
    "7",
    (195, 195),
    "Can be solved via dynamic programming (needs knowledge of p), Monte-Carlo or Temporal "
    "Difference learning.",
    "DP backs up expectations under the model p; MC and TD learn from sampled experience.",
    "Sutton & Barto (2nd ed.), Ch. 4-6",
)
_word_claim(
    "rl-monte-carlo",
    "7.2",
    (203, 203),
    "Sample trajectories, estimate v_pi by averaging returns. Doesn't need full p, is unbiased, "
    "but high variance, exploration/exploitation dilemma, may not reach term. state.",
    "The average of sampled returns is an unbiased estimate of v_pi with the variance of a whole "
    "return; it needs episodes that terminate.",
    "Sutton & Barto (2nd ed.), Sec. 5.1",
    check=_monte_carlo_evidence,
)
_word_claim(
    "rl-td-epsilon-greedy",
    "7.3",
    (205, 205),
    "epsilon-greedy policy: with prob. epsilon choose random action, else greedy.",
    "That is the definition of epsilon-greedy action selection.",
    "Sutton & Barto (2nd ed.), Sec. 2.2",
)
_word_claim(
    "rl-tabular-unvisited",
    "7.4",
    (213, 213),
    "All these approaches do not approximate values of states that have not been visited.",
    "Tabular methods keep one entry per state (or state-action); an unvisited entry keeps its "
    "initial value, which is what motivates function approximation (deep Q-learning).",
    "Sutton & Barto (2nd ed.), Ch. 9 introduction",
)
_word_claim(
    "rl-deep-q-networks",
    "7.6",
    (217, 217),
    "Deep Q-networks: encode state to low dimensionality with NN.",
    "DQN maps raw observations (frames) through a convolutional network to Q-values.",
    "Mnih et al. 2015, Human-level control through deep reinforcement learning",
)
_word_claim(
    "rl-policy-gradient-motivation",
    "7.7",
    (219, 219),
    "Q-learning does not handle continuous action spaces. Learn a policy directly instead. "
    "This is on-policy.",
    "max_a Q(s, a) over a continuous action space is an optimisation problem at every step; "
    "policy gradients sample from pi_theta itself, so the data must come from the current "
    "policy (on-policy).",
    "Sutton & Barto (2nd ed.), Sec. 13.7; Levine CS285 lecture 5",
)
_word_claim(
    "rl-motion-synthesis",
    "7.9",
    (227, 231),
    "Data-driven: bad perf. out of distribution, needs expensive mocap. DeepMimic: RL to imitate "
    "reference motions while satisfying task objectives. SFV: use pose estimation: videos -> "
    "train data.",
    "DeepMimic rewards imitation of a reference clip plus a task term; SFV (skills from videos) "
    "extracts reference motions from video with pose estimation and trains the same way.",
    "Peng et al. 2018, DeepMimic; Peng et al. 2018, SFV: Reinforcement Learning of Physical "
    "Skills from Videos",
)
