"""Runs of the reinforcement-learning models and the basics (issue 7): tabular dynamic
programming and TD control on small MDPs, DQN / REINFORCE / actor-critic on CartPole, MLP and
CNN classifiers on the digits, the optimizers on Rosenbrock, and RNN gradient flow."""

from cheatsheet.runs.protocol import RunSpec

MDPS = ("gridworld-slippery", "gridworld", "chain", "random-mdp")

SPECS = [
    RunSpec(
        name="value-iteration",
        family="rl",
        description="Value iteration, V <- T* V until the contraction converges "
        "(Bellman 1957); one step = one sweep",
        factory="cheatsheet.rl.experiments:make_value_iteration",
        default_steps=300,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="policy-iteration",
        family="rl",
        description="Policy iteration, exact evaluation by a linear solve + greedy improvement "
        "(Howard 1960); one step = one iteration",
        factory="cheatsheet.rl.experiments:make_policy_iteration",
        default_steps=10,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="q-learning",
        family="rl",
        description="Tabular Q-learning, off-policy TD control with max_a' (Watkins 1989); "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_q_learning",
        default_steps=3000,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="sarsa",
        family="rl",
        description="SARSA, on-policy TD control with Q(S', A') (Rummery & Niranjan 1994); "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_sarsa",
        default_steps=3000,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="td0",
        family="rl",
        description="TD(0) prediction of the random policy (Sutton 1988); one step = one episode",
        factory="cheatsheet.rl.experiments:make_td0",
        default_steps=3000,
        default_data="chain",
        datasets=MDPS,
    ),
    RunSpec(
        name="monte-carlo",
        family="rl",
        description="First-visit Monte Carlo prediction of the random policy; "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_monte_carlo",
        default_steps=3000,
        default_data="chain",
        datasets=MDPS,
    ),
    RunSpec(
        name="dqn",
        family="rl",
        description="DQN, replay buffer + target network (Mnih et al. 2015; Double DQN target) "
        "on CartPole-v1; one step = one environment step, stops when solved",
        factory="cheatsheet.rl.dqn:make_experiment",
        default_steps=80_000,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="reinforce",
        family="rl",
        description="REINFORCE with a learned value baseline (Williams 1992) on CartPole-v1; "
        "one step = one episode",
        factory="cheatsheet.rl.policy_gradient:make_experiment",
        default_steps=400,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="actor-critic",
        family="rl",
        description="Actor-critic with the one-step TD advantage (Mnih et al. 2016, synchronous) "
        "on 8 CartPole-v1s; one step = one step of each",
        factory="cheatsheet.rl.actor_critic:make_experiment",
        default_steps=8000,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="mlp",
        family="basics",
        description="MLP classifier, cross-entropy + the sheet's Adam (Rumelhart et al. 1986)",
        factory="cheatsheet.models.mlp:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "digits-binary"),
    ),
    RunSpec(
        name="cnn",
        family="basics",
        description="CNN classifier, two conv-ReLU-maxpool stages (LeCun et al. 1998)",
        factory="cheatsheet.models.cnn:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "digits-binary"),
    ),
    RunSpec(
        name="optimizers",
        family="basics",
        description="SGD, Polyak, Nesterov, AdaGrad, RMSProp, Adam from the sheet on the "
        "Rosenbrock function",
        factory="cheatsheet.models.optimizers:make_rosenbrock_experiment",
        default_steps=3000,
        default_data="rosenbrock",
        datasets=("rosenbrock",),
    ),
    RunSpec(
        name="rnn-gradients",
        family="basics",
        description="||dh_t/dh_0|| vs t as lambda_1(W_hh) crosses 1/gamma (vanishing/exploding "
        "gradients, Pascanu et al. 2013); one step = one random draw",
        factory="cheatsheet.models.rnn:make_gradient_experiment",
        default_steps=20,
        default_data="synthetic",
        datasets=("synthetic",),
    ),
]
