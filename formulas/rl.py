"""Reinforcement learning (sheet section 7, and "Bellman operator converges" / "Policy
gradients" in the proofs, section 13).

Conventions used by every evaluator here (finite MDPs as arrays):
- P[s, a, s'] = p(s' | s, a), each P[s, a, :] a probability vector;
- R[s, a] = the expected reward r(s, a) = sum_{s', r} p(s', r | s, a) r (the sheet's
  sum over (s', r) collapses to this because the reward term does not depend on s');
- policy[s, a] = pi(a | s); V[s] a value table, Q[s, a] an action-value table.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

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


def _q_from_v(P, R, gamma, V):
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


def _optimal_values(P, R, gamma, tolerance: float = 1e-13):
    import numpy as np

    V = np.zeros(P.shape[0])
    for _ in range(100_000):
        V_new = _q_from_v(P, R, gamma, V).max(axis=1)
        if np.max(np.abs(V_new - V)) < tolerance:
            return V_new
        V = V_new
    return V


# --------------------------------------------------------------------------------------------
# discounted-return: G_t = sum_k gamma^k R_{t+k+1}


def _return_statement():
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    k, t = sp.symbols("k t", integer=True, nonnegative=True)
    R = sp.IndexedBase("R")
    return sp.Eq(sp.Symbol("G_t"), sp.Sum(gamma**k * R[t + k + 1], (k, 0, sp.oo)))


def _return_derivation() -> list[Step]:
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    rewards = sp.symbols("R_1:6", real=True)  # an episode of 5 rewards R_1..R_5
    k = sp.Symbol("k", integer=True, nonnegative=True)

    def G(t):
        return sum(gamma**k * rewards[t + k] for k in range(len(rewards) - t))

    return [
        Step(
            "the return satisfies the recursion used in the Bellman equation "
            "(here for an episode of 5 rewards, t = 0)",
            G(0),
            rewards[0] + gamma * G(1),
            justification="pull out the first reward; every later term has one more factor gamma",
            assumptions="gamma > 0, rewards real",
        ),
        Step(
            "constant reward r forever: the geometric series",
            sp.Sum(sp.Rational(9, 10) ** k, (k, 0, sp.oo)),
            1 / (1 - sp.Rational(9, 10)),
            justification="sum_k gamma^k = 1/(1 - gamma) for gamma < 1 (here gamma = 0.9)",
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
        derivation_builder=_return_derivation,
        evaluator=discounted_return,
    )
)


# --------------------------------------------------------------------------------------------
# bellman-expectation: v_pi(s) = sum_a pi(a|s) sum_{s', r} p(s', r | s, a) [r + gamma v_pi(s')]


def _bellman_expectation_statement():
    import sympy as sp

    s, a, s2 = sp.symbols("s a s'")
    gamma = sp.Symbol("gamma", positive=True)
    pi, p, r, v = sp.Function("pi"), sp.Function("p"), sp.Function("r"), sp.Function("v_pi")
    inner = sp.Sum(
        p(s2, s, a) * (r(s, a) + gamma * v(s2)), (s2, sp.Symbol("S_1"), sp.Symbol("S_n"))
    )
    return sp.Eq(v(s), sp.Sum(pi(a, s) * inner, (a, sp.Symbol("A_1"), sp.Symbol("A_m"))))


def bellman_expectation_backup(P, R, gamma, policy, V):
    """(T^pi V)[s] = sum_a pi(a|s) (R[s,a] + gamma sum_s' P[s,a,s'] V[s']); v_pi is its fixed
    point (formula bellman-expectation)."""
    import numpy as np

    policy = np.asarray(policy, dtype=np.float64)
    return as_float64(np.einsum("sa,sa->s", policy, _q_from_v(P, R, gamma, V)))


def _bellman_expectation_derivation() -> list[Step]:
    import numpy as np

    def fixed_point() -> StepResult:
        worst = 0.0
        for seed in range(5):
            P, R = _random_mdp(seed)
            rng = np.random.default_rng(seed + 100)
            policy = rng.random(R.shape)
            policy /= policy.sum(axis=1, keepdims=True)
            v, _ = _policy_values(P, R, 0.9, policy)
            gap = np.max(np.abs(bellman_expectation_backup(P, R, 0.9, policy, v) - v))
            worst = max(worst, gap)
        return StepResult(
            bool(worst < 1e-10), "custom", f"5 random MDPs, max |T^pi v - v| = {worst:.1e}"
        )

    return [
        Step(
            "v_pi solves the linear system v = r_pi + gamma P_pi v, i.e. it is the fixed point of "
            "the expectation backup",
            justification="v_pi = (I - gamma P_pi)^{-1} r_pi solved exactly, then backed up once",
            custom=fixed_point,
        )
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
    )
)


# --------------------------------------------------------------------------------------------
# bellman-optimality-backup: (T* V)(s) = max_a (R[s,a] + gamma sum_s' P[s,a,s'] V[s'])


def _optimality_symbols():
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    r = sp.Symbol("r", real=True)
    p1, p2 = sp.symbols("p_1 p_2", positive=True)
    v = sp.symbols("v_1:4", real=True)
    w = sp.symbols("w_1:4", real=True)
    return sp, gamma, r, (p1, p2, 1 - p1 - p2), v, w


def _simplex_sampler(rng):
    import sympy as sp

    a, b = sorted(rng.randint(1, 99) for _ in range(2))
    return {
        sp.Symbol("p_1", positive=True): sp.Rational(a, 100),
        sp.Symbol("p_2", positive=True): sp.Rational(b - a, 100),
    }


def _optimality_statement():
    import sympy as sp

    s, a, s2 = sp.symbols("s a s'")
    gamma = sp.Symbol("gamma", positive=True)
    P, R, V = sp.Function("P"), sp.Function("R"), sp.Function("V")
    backup = R(s, a) + gamma * sp.Sum(P(s, a, s2) * V(s2), (s2, sp.Symbol("S_1"), sp.Symbol("S_n")))
    return sp.Eq(sp.Function("T^*V")(s), sp.Function("max_a")(backup))


def _optimality_derivation() -> list[Step]:
    import numpy as np

    sp, gamma, r, p, v, _ = _optimality_symbols()

    def fixed_point() -> StepResult:
        worst = 0.0
        for seed in range(5):
            P, R = _random_mdp(seed)
            v_star = _optimal_values(P, R, 0.9)
            # independent: v* is also the best of all deterministic policies' exact values
            best = np.full(P.shape[0], -np.inf)
            for choice in np.ndindex(*(R.shape[1],) * R.shape[0]):
                policy = np.eye(R.shape[1])[list(choice)]
                best = np.maximum(best, _policy_values(P, R, 0.9, policy)[0])
            worst = max(worst, np.max(np.abs(v_star - best)))
            worst = max(worst, np.max(np.abs(bellman_optimality_backup(P, R, 0.9, best) - best)))
        return StepResult(
            bool(worst < 1e-9),
            "custom",
            f"5 random MDPs: max over deterministic policies of v_pi is the fixed "
            f"point of T*, max gap {worst:.1e}",
        )

    def deterministic() -> StepResult:
        rng = np.random.default_rng(3)
        P, R = _random_mdp(3)
        nxt = rng.integers(0, P.shape[0], R.shape)  # s' = p(s, a) deterministic
        P_det = np.eye(P.shape[0])[nxt]
        V = rng.normal(size=P.shape[0])
        sheet = np.max(R + 0.9 * V[nxt], axis=1)
        gap = np.max(np.abs(sheet - bellman_optimality_backup(P_det, R, 0.9, V)))
        return StepResult(bool(gap < 1e-12), "custom", f"one-hot P: gap {gap:.1e}")

    q = r + gamma * sum(pi * vi for pi, vi in zip(p, v))
    return [
        Step(
            "q*(s,a) = sum_{s'} p(s'|s,a) [r(s,a) + gamma v*(s')] = r(s,a) + gamma sum_{s'} "
            "p(s'|s,a) v*(s')  (three successor states)",
            sum(pi * (r + gamma * vi) for pi, vi in zip(p, v)),
            q,
            justification="the transition probabilities sum to one, so r(s,a) comes out",
            assumptions="p_1, p_2 > 0, p_3 = 1 - p_1 - p_2",
        ),
        Step(
            "v*(s) = max_a q*(s, a): acting greedily w.r.t. q* is optimal, so v* is the fixed "
            "point of T*V(s) = max_a (r(s,a) + gamma E_{s'} V(s'))",
            justification="checked against brute force over all deterministic policies",
            custom=fixed_point,
        ),
        Step(
            "with deterministic dynamics s' = p(s,a) this is the sheet's update "
            "V_new(s) = max_a (r(s,a) + gamma V_old(p(s,a)))",
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
        derivation_builder=_optimality_derivation,
        evaluator=bellman_optimality_backup,
    )
)


# --------------------------------------------------------------------------------------------
# bellman-contraction: ||T*V1 - T*V2||_inf <= gamma ||V1 - V2||_inf


def _contraction_statement():
    import sympy as sp

    gamma = sp.Symbol("gamma", positive=True)
    lhs, rhs = sp.symbols("||T^*V_1-T^*V_2||_inf ||V_1-V_2||_inf", nonnegative=True)
    return sp.Le(lhs, gamma * rhs)


def _contraction_derivation() -> list[Step]:
    import numpy as np

    sp, gamma, r, p, v, w = _optimality_symbols()
    f = sp.symbols("f_1:4", real=True)
    g = sp.symbols("g_1:4", real=True)
    d = [vi - wi for vi, wi in zip(v, w)]

    def operator_check() -> StepResult:
        rng = np.random.default_rng(0)
        worst = 0.0
        for seed in range(20):
            P, R = _random_mdp(seed)
            gamma_ = rng.uniform(0.1, 0.99)
            V1, V2 = rng.normal(size=(2, P.shape[0])) * 5
            lhs = np.max(
                np.abs(
                    bellman_optimality_backup(P, R, gamma_, V1)
                    - bellman_optimality_backup(P, R, gamma_, V2)
                )
            )
            rhs = gamma_ * np.max(np.abs(V1 - V2))
            if lhs > rhs + 1e-12:
                return StepResult(False, "custom", f"lhs {lhs} > rhs {rhs} (seed {seed})")
            worst = max(worst, lhs / rhs)
        return StepResult(
            True, "custom", f"20 random MDPs/value pairs; max ratio lhs/rhs {worst:.3f}"
        )

    def banach() -> StepResult:
        P, R = _random_mdp(7)
        v_star = _optimal_values(P, R, 0.8)
        V = np.random.default_rng(7).normal(size=P.shape[0]) * 10
        start = np.max(np.abs(V - v_star))
        for k in range(1, 40):
            V = bellman_optimality_backup(P, R, 0.8, V)
            if np.max(np.abs(V - v_star)) > 0.8**k * start + 1e-12:
                return StepResult(False, "custom", f"error above gamma^k bound at k={k}")
        return StepResult(True, "custom", "||T*^k V - v*|| <= gamma^k ||V - v*|| for k < 40")

    return [
        Step(
            "|max_a f(a) - max_a g(a)| <= max_a |f(a) - g(a)|  (three actions)",
            sp.Abs(sp.Max(*f) - sp.Max(*g)),
            sp.Max(*[sp.Abs(fi - gi) for fi, gi in zip(f, g)]),
            relation="<=",
            justification="the max is 1-Lipschitz in the max norm",
            method="numeric",
        ),
        Step(
            "Q_1(s,a) - Q_2(s,a): the rewards cancel",
            (r + gamma * sum(pi * vi for pi, vi in zip(p, v)))
            - (r + gamma * sum(pi * wi for pi, wi in zip(p, w))),
            gamma * sum(pi * di for pi, di in zip(p, d)),
        ),
        Step(
            "|sum_{s'} p(s'|s,a)(V_1(s') - V_2(s'))| <= max_{s'} |V_1(s') - V_2(s')|",
            sp.Abs(sum(pi * di for pi, di in zip(p, d))),
            sp.Max(*[sp.Abs(di) for di in d]),
            relation="<=",
            justification="a convex combination is bounded by its largest term in absolute value",
            assumptions="p on the simplex",
            sampler=_simplex_sampler,
            method="numeric",
        ),
        Step(
            "together: max_s |T*V_1(s) - T*V_2(s)| <= gamma max_s |V_1(s) - V_2(s)|",
            justification="checked on random MDPs and value pairs",
            custom=operator_check,
        ),
        Step(
            "Banach: T* has a unique fixed point v*, and value iteration converges to it "
            "geometrically, ||(T*)^k V - v*|| <= gamma^k ||V - v*||",
            custom=banach,
        ),
    ]


def _contraction_evidence() -> Evidence:
    import numpy as np

    P, R = _random_mdp(4)
    rng = np.random.default_rng(4)
    V1, V2 = rng.normal(size=(2, P.shape[0]))
    inner = np.max(np.abs(np.einsum("sat,t->sa", P, V1 - V2)))
    rhs = np.max(np.abs(V1 - V2))
    return Evidence(
        sheet_fails=bool(abs(inner - rhs) > 1e-3),
        correct_passes=bool(inner <= rhs + 1e-12),
        detail=f"random MDP and value pair: max_(s,a) |sum_s' p (V_1 - V_2)| = {inner:.4f} is "
        f"strictly below max_s |V_1 - V_2| = {rhs:.4f}, so '=' is false and '<=' holds",
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
        erratum=Erratum(
            sheet=r"\ldots = \gamma \max_{s,a} \left|\sum_{s',r} p(s',r|s,a)(V_1(s') - V_2(s'))"
            r"\right| = \text{RHS}",
            correct=r"\gamma \max_{s,a} \left|\sum_{s'} p(s'|s,a)(V_1(s') - V_2(s'))\right| "
            r"\leq \gamma \max_{s} |V_1(s) - V_2(s)| = \text{RHS}",
            explanation="the last step of the sheet's proof is an inequality, not an equality: an "
            "average of the differences is at most their largest absolute value",
            evidence=_contraction_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# value-iteration: V_{k+1} = T* V_k converges geometrically, not in finitely many steps


def _vi_statement():
    import sympy as sp

    k = sp.Symbol("k", integer=True, nonnegative=True)
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Le(sp.Symbol("||V_k - v_*||_inf"), gamma**k * sp.Symbol("||V_0 - v_*||_inf"))


def value_iteration(P, R, gamma, V, iterations):
    """V_k = (T*)^k V: `iterations` Bellman optimality backups from V."""
    import numpy as np

    V = np.asarray(V, dtype=np.float64)
    for _ in range(int(iterations)):
        V = bellman_optimality_backup(P, R, gamma, V)
    return as_float64(V)


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
    equal_at, bound_holds, policies = None, True, []
    for k in range(1, 61):
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
    return Evidence(
        sheet_fails=equal_at is None,
        correct_passes=bound_holds,
        detail=f"value iteration in exact rational arithmetic on a random 3-state MDP: V_old != "
        f"V_new in all 60 iterations (the values converge only in the limit), the error stays "
        f"below gamma^k ||V_0 - v*|| throughout, and the greedy policy is fixed from iteration "
        f"{stable_from + 1} on",
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
        evaluator=value_iteration,
        erratum=Erratum(
            sheet=r"\text{when } V^*_{old} = V^*_{new} \text{ we have the optimal policy. "
            r"Converges in finite steps}",
            correct=r"\|V_k - v_*\|_\infty \le \gamma^k \|V_0 - v_*\|_\infty \text{ (the "
            r"values converge in the limit; the greedy policy is optimal after finitely many "
            r"steps)}",
            explanation="the values reach v_* only in the limit, so V_old = V_new generally never "
            "happens exactly; in practice one stops when ||V_new - V_old|| is small. It is the "
            "greedy policy (and policy iteration) that converges in finitely many steps",
            evidence=_vi_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# greedy-policy: pi'(s) = argmax_a (r(s,a) + gamma V(p(s,a)))


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


def _greedy_derivation() -> list[Step]:
    import numpy as np

    def improvement() -> StepResult:
        for seed in range(5):
            P, R = _random_mdp(seed)
            rng = np.random.default_rng(seed)
            policy = rng.random(R.shape)
            policy /= policy.sum(axis=1, keepdims=True)
            v, _ = _policy_values(P, R, 0.9, policy)
            greedy = np.eye(R.shape[1])[greedy_policy(P, R, 0.9, v)]
            v_new, _ = _policy_values(P, R, 0.9, greedy)
            if np.any(v_new < v - 1e-10):
                return StepResult(False, "custom", f"greedy policy worse (seed {seed})")
        return StepResult(True, "custom", "5 random MDPs: v_{pi'} >= v_pi in every state")

    return [
        Step(
            "policy improvement theorem: the greedy policy w.r.t. v_pi is at least as "
            "good as pi in every state",
            custom=improvement,
        )
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
        derivation_builder=_greedy_derivation,
        evaluator=greedy_policy,
    )
)


# --------------------------------------------------------------------------------------------
# td0-update: V(s) <- V(s) + alpha (r + gamma V(s') - V(s))


def _td_statement():
    import sympy as sp

    V, Vn, r, alpha = sp.symbols("V(s) V(s') r alpha", real=True)
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(sp.Symbol("V(s)_new"), V + alpha * (r + gamma * Vn - V))


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
        f"TD error is {right:.1e} with Q(S',A') but {sheet:.3f} with the sheet's Q(S',A), so "
        f"the sheet's rule does not have q_pi as its fixed point",
    )


def _sarsa_statement():
    import sympy as sp

    Q, Qn, r, alpha = (sp.Symbol(n, real=True) for n in ("Q(S,A)", "Q(S',A')", "r", "alpha"))
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(sp.Symbol("Q(S,A)_new"), Q + alpha * (r + gamma * Qn - Q))


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
        erratum=Erratum(
            sheet=r"\Delta Q(S, A) = r(S, A) + \gamma Q(S', A) - Q(S, A)",
            correct=r"\Delta Q(S, A) = r(S, A) + \gamma Q(S', A') - Q(S, A)",
            explanation="SARSA bootstraps from the action A' actually taken in S' (that is the "
            "second A in S-A-R-S'-A'); the sheet reuses the old action A",
            evidence=_sarsa_evidence,
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

    Q, r, alpha = (sp.Symbol(n, real=True) for n in ("Q(S,A)", "R_{t+1}", "alpha"))
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(
        sp.Symbol("Q(S,A)_new"), Q + alpha * (r + gamma * sp.Symbol("max_a' Q(S',a')") - Q)
    )


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
        erratum=Erratum(
            sheet=r"\Delta Q(S, A) = R_{t+1} + \gamma \max_{a'} Q(S', a) - Q(S, A)",
            correct=r"\Delta Q(S, A) = R_{t+1} + \gamma \max_{a'} Q(S', a') - Q(S, A)",
            explanation="index typo: the max runs over a', so the argument must be a'; as printed "
            "the max is vacuous and the target is Q(S', a) for a fixed a",
            evidence=_q_learning_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# dqn-loss: (R + gamma max_a' Q_target(S',a') - Q_theta(S,A))^2, gradient only through Q(S,A)


def _dqn_statement():
    import sympy as sp

    r, q, qn = (sp.Symbol(n, real=True) for n in ("R", "Q_theta(S,A)", "max_a' Q(S',a')"))
    gamma = sp.Symbol("gamma", positive=True)
    return sp.Eq(sp.Symbol("L(theta)"), (r + gamma * qn - q) ** 2)


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
    )
)


# --------------------------------------------------------------------------------------------
# policy-gradient: grad J = E_tau[grad log p(tau) r(tau)], the dynamics drop out


def _pg_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("nabla_theta J(theta)"),
        sp.Symbol("E_tau[(sum_t nabla_theta log pi_theta(a_t|s_t)) (sum_t gamma^t r(s_t,a_t))]"),
    )


def _pg_derivation() -> list[Step]:
    import sympy as sp

    theta = sp.Symbol("theta", real=True)
    p = sp.Function("p", positive=True)
    logits = sp.symbols("theta_1:4", real=True)
    rewards = sp.symbols("r_1:4", real=True)
    Z = sum(sp.exp(x) for x in logits)
    probs = [sp.exp(x) / Z for x in logits]
    ps1, P1, P2 = (
        sp.Symbol(n, positive=True) for n in ("p(s_1)", "p(s_2|s_1,a_1)", "p(s_3|s_2,a_2)")
    )
    pi = sp.Function("pi_theta", positive=True)
    pi1, pi2 = pi(theta, 1), pi(theta, 2)
    return [
        Step(
            "score-function (log-derivative) trick: grad p = p grad log p",
            sp.diff(p(theta), theta),
            p(theta) * sp.diff(sp.log(p(theta)), theta),
            assumptions="p > 0",
        ),
        Step(
            "grad_theta E_p[r] = E_p[r grad_theta log p] (exact for a softmax policy over three "
            "actions, derivative w.r.t. theta_1)",
            sp.diff(sum(pr * r for pr, r in zip(probs, rewards)), logits[0]),
            sum(pr * sp.diff(sp.log(pr), logits[0]) * r for pr, r in zip(probs, rewards)),
            justification="differentiate under the sum/integral, then the trick",
        ),
        Step(
            "log p(tau) = log p(s_1) + sum_t log pi(a_t|s_t) + sum_t log p(s_{t+1}|a_t,s_t)  (T=2)",
            sp.expand_log(sp.log(ps1 * pi1 * P1 * pi2 * P2), force=True),
            sp.log(ps1) + sp.log(pi1) + sp.log(pi2) + sp.log(P1) + sp.log(P2),
            assumptions="all probabilities > 0",
        ),
        Step(
            "the initial-state and dynamics terms do not depend on theta: grad log p(tau) = "
            "sum_t grad log pi_theta(a_t|s_t), no model of p needed",
            sp.diff(sp.log(ps1) + sp.log(pi1) + sp.log(pi2) + sp.log(P1) + sp.log(P2), theta),
            sp.diff(sp.log(pi1), theta) + sp.diff(sp.log(pi2), theta),
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
    )
)


# --------------------------------------------------------------------------------------------
# reinforce-gradient: Monte Carlo estimate with a baseline, for a softmax (categorical) policy


def _reinforce_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("hat{nabla}J"),
        sp.Symbol("1/N sum_i (sum_t nabla log pi_theta(a_t^i|s_t^i)) (r(tau^i) - b)"),
    )


def _reinforce_derivation() -> list[Step]:
    import sympy as sp

    logits = sp.symbols("theta_1:4", real=True)
    b = sp.Symbol("b", real=True)
    Z = sum(sp.exp(x) for x in logits)
    probs = [sp.exp(x) / Z for x in logits]
    return [
        Step(
            "a baseline adds no bias: E[grad log pi(a) b] = b grad sum_a pi(a) = 0 "
            "(softmax over three actions, d/d theta_1)",
            sum(pr * sp.diff(sp.log(pr), logits[0]) * b for pr in probs),
            sp.Integer(0),
        )
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
        derivation_builder=_reinforce_derivation,
        evaluator=reinforce_gradient,
    )
)


# --------------------------------------------------------------------------------------------
# actor-critic-advantage: r + gamma V(s') - V(s)


def _ac_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("nabla_theta J"),
        sp.Symbol(
            "1/N sum_i sum_t nabla log pi_theta(a_t^i|s_t^i) (r(s_t^i,a_t^i) + gamma "
            "V(s_{t+1}^i) - V(s_t^i))"
        ),
    )


def _ac_derivation() -> list[Step]:
    import numpy as np

    def advantage() -> StepResult:
        P, R = _random_mdp(5)
        rng = np.random.default_rng(5)
        policy = rng.random(R.shape)
        policy /= policy.sum(axis=1, keepdims=True)
        v, q = _policy_values(P, R, 0.9, policy)
        expected = R + 0.9 * np.einsum("sat,t->sa", P, v) - v[:, None]
        gap = np.max(np.abs(expected - (q - v[:, None])))
        return StepResult(bool(gap < 1e-10), "custom", f"E_s'[delta] - (q_pi - v_pi): {gap:.1e}")

    return [
        Step(
            "with V = v_pi the TD error is an unbiased estimate of the advantage "
            "A(s,a) = q_pi(s,a) - v_pi(s)",
            custom=advantage,
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
        derivation_builder=_ac_derivation,
        evaluator=actor_critic_advantage,
    )
)
