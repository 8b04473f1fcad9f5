"""Deep RL: the score-function gradient is unbiased (Monte Carlo against the analytic gradient
on bandits), the DQN target carries no gradient, the actor-critic TD advantage bootstraps
without a gradient, and each CartPole experiment runs end to end on the device."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from cheatsheet.rl.actor_critic import td_advantage
from cheatsheet.rl.dqn import QNetwork, ReplayBuffer, dqn_loss, td_target
from cheatsheet.rl.policy_gradient import (
    ValueNetwork,
    discounted_returns,
    score_function_surrogate,
)
from cheatsheet.runs.protocol import RunContext

# Monte Carlo tolerance: the estimate of each coordinate must lie within Z standard errors of
# the analytic gradient (P(|N(0,1)| > 4.5) ~ 7e-6 per coordinate; seeds are fixed anyway).
Z = 4.5


@pytest.mark.parametrize("baseline", [0.0, "J", 7.0])
def test_score_function_gradient_is_unbiased_on_a_softmax_bandit(device, baseline):
    generator = torch.Generator().manual_seed(0)
    theta = torch.tensor([0.3, -0.5, 1.0, 0.0], device=device, requires_grad=True)
    arm_reward = torch.tensor([10.0, 11.0, 12.0, 9.0], device=device)
    pi = torch.softmax(theta, 0)
    J = (pi * arm_reward).sum()
    (analytic,) = torch.autograd.grad(J, theta)  # autograd of the exact expectation
    closed_form = pi * (arm_reward - J)  # dJ/dtheta_k = pi_k (r_k - J)
    torch.testing.assert_close(analytic, closed_form.detach())

    b = J.item() if baseline == "J" else baseline
    n = 40_000
    actions = torch.multinomial(pi.detach().cpu(), n, replacement=True, generator=generator)
    actions = actions.to(device)
    # The estimator under test, as the REINFORCE code computes it: one surrogate's gradient.
    log_probs = torch.distributions.Categorical(logits=theta).log_prob(actions)
    surrogate = score_function_surrogate(log_probs, arm_reward[actions], torch.tensor(b))
    (estimate,) = torch.autograd.grad(-surrogate, theta)
    # Its standard error from the per-sample gradients (e_a - pi)(r_a - b), in closed form.
    per_sample = (F.one_hot(actions, 4) - pi.detach()) * (arm_reward[actions] - b)[:, None]
    torch.testing.assert_close(estimate, per_sample.mean(0))
    standard_error = per_sample.std(0) / math.sqrt(n)
    assert torch.all((estimate - analytic).abs() <= Z * standard_error + 1e-6), (
        estimate, analytic, standard_error)  # fmt: skip


def test_baseline_reduces_variance_but_not_the_mean():
    pi = torch.softmax(torch.tensor([0.3, -0.5, 1.0, 0.0]), 0)
    arm_reward = torch.tensor([10.0, 11.0, 12.0, 9.0])
    J = (pi * arm_reward).sum()
    one_hot = torch.eye(4)

    def moments(b):
        # Exact mean and second moment of (e_a - pi)(r_a - b) over a ~ pi.
        per_action = (one_hot - pi) * (arm_reward - b)[:, None]
        mean = (pi[:, None] * per_action).sum(0)
        second = (pi[:, None] * per_action**2).sum(0)
        return mean, (second - mean**2).sum()

    mean_none, variance_none = moments(0.0)
    mean_J, variance_J = moments(J)
    torch.testing.assert_close(mean_none, mean_J)
    assert variance_J < 0.05 * variance_none


def test_score_function_gradient_is_unbiased_for_a_gaussian_policy(device):
    # The sheet's continuous policy pi(a) = N(mu, sigma^2), reward r(a) = -(a - c)^2:
    # J = -((mu - c)^2 + sigma^2), dJ/dmu = -2 (mu - c), dJ/dlog sigma = -2 sigma^2.
    torch.manual_seed(0)
    mu = torch.tensor(0.5, device=device, requires_grad=True)
    log_sigma = torch.tensor(-0.3, device=device, requires_grad=True)
    c, n = 1.2, 200_000
    policy = torch.distributions.Normal(mu, log_sigma.exp())
    actions = policy.sample((n,))
    rewards = -((actions - c) ** 2)
    baseline = rewards.mean().detach()  # a constant baseline; the small bias is O(1/n)
    surrogate = score_function_surrogate(policy.log_prob(actions), rewards, baseline)
    estimate = torch.stack(torch.autograd.grad(-surrogate, (mu, log_sigma)))
    sigma = log_sigma.exp().item()
    analytic = torch.tensor([-2 * (mu.item() - c), -2 * sigma**2], device=device)
    # Standard errors from the per-sample terms score * (r - b).
    z = (actions - mu) / sigma
    score = torch.stack([z / sigma, z**2 - 1])
    per_sample = (score * (rewards - baseline)).detach()
    standard_error = per_sample.std(1) / math.sqrt(n)
    assert torch.all((estimate - analytic).abs() <= Z * standard_error + 1e-4)


def test_discounted_returns_match_the_direct_sum(device):
    rewards = torch.randn(13, device=device, dtype=torch.float64)
    gamma = 0.9
    direct = torch.stack([
        sum(gamma**k * rewards[t + k] for k in range(13 - t)) for t in range(13)
    ])  # fmt: skip
    torch.testing.assert_close(discounted_returns(rewards, gamma), direct)


def _batch(device, n=32, observation=4, generator=None):
    generator = generator or torch.Generator().manual_seed(0)
    return (
        torch.randn(n, observation, generator=generator).to(device),
        torch.randint(0, 2, (n,), generator=generator).to(device),
        torch.randn(n, generator=generator).to(device),
        torch.randn(n, observation, generator=generator).to(device),
        (torch.rand(n, generator=generator) < 0.2).float().to(device),
    )


def test_dqn_target_carries_no_gradient(device):
    torch.manual_seed(0)
    online = QNetwork(4, 2, 16).to(device)
    target = QNetwork(4, 2, 16).to(device)
    batch = _batch(device)
    loss, y = dqn_loss(online, target, batch, gamma=0.99, loss="mse")
    assert not y.requires_grad and y.grad_fn is None
    loss.backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(p.grad is not None for p in online.parameters())

    # Same network for target and prediction (the case where a leak would show): the gradient
    # must be that of (y_const - Q(S, A))^2, not the residual gradient through max_a' Q(S', a').
    online.zero_grad()
    loss, y = dqn_loss(online, online, batch, gamma=0.99, loss="mse")
    (semi,) = torch.autograd.grad(loss, online.net[0].weight)
    states, actions, rewards, next_states, terminated = batch
    q_taken = online(states).gather(1, actions[:, None]).squeeze(1)
    y_manual = rewards + 0.99 * (1 - terminated) * online(next_states).max(1).values
    torch.testing.assert_close(y, y_manual.detach())
    (expected,) = torch.autograd.grad(F.mse_loss(q_taken, y_manual.detach()),
                                      online.net[0].weight, retain_graph=True)  # fmt: skip
    (residual,) = torch.autograd.grad(F.mse_loss(q_taken, y_manual), online.net[0].weight)
    torch.testing.assert_close(semi, expected)
    assert (semi - residual).abs().max() > 1e-4  # the check can tell the two apart


def test_td_target_zeroes_terminal_bootstrap(device):
    net = QNetwork(4, 3, 8).to(device)
    rewards = torch.tensor([1.0, 2.0], device=device)
    next_states = torch.randn(2, 4, device=device)
    y = td_target(net, rewards, next_states, torch.tensor([1.0, 0.0], device=device), 0.5)
    assert y[0].item() == 1.0
    torch.testing.assert_close(y[1], 2.0 + 0.5 * net(next_states[1:]).max().detach())


def test_replay_buffer_wraps_and_samples_only_filled_entries():
    buffer = ReplayBuffer(5, 2, "cpu")
    for i in range(7):
        buffer.add([i, i], i % 2, float(i), [i + 1, i + 1], False)
    assert buffer.size == 5
    assert sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    states, actions, rewards, next_states, _ = buffer.sample(200, torch.Generator().manual_seed(0))
    torch.testing.assert_close(states[:, 0], rewards)
    torch.testing.assert_close(next_states[:, 0], rewards + 1)
    assert set(rewards.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}


def test_td_advantage_is_the_td_error_with_a_detached_bootstrap(device):
    torch.manual_seed(0)
    critic = ValueNetwork(4, 8).to(device)
    states, _, rewards, next_states, terminated = _batch(device, n=6)
    values, delta = td_advantage(critic, states, rewards, next_states, terminated, 0.9)
    manual = rewards + 0.9 * (1 - terminated) * critic(next_states) - critic(states)
    torch.testing.assert_close(delta, manual)
    (grad,) = torch.autograd.grad(delta.pow(2).mean(), critic.net[0].weight)
    target = (rewards + 0.9 * (1 - terminated) * critic(next_states)).detach()
    (expected,) = torch.autograd.grad((target - critic(states)).pow(2).mean(),
                                      critic.net[0].weight)  # fmt: skip
    torch.testing.assert_close(grad, expected)


@pytest.mark.parametrize(
    "factory",
    [
        "cheatsheet.rl.dqn:make_experiment",
        "cheatsheet.rl.policy_gradient:make_experiment",
        "cheatsheet.rl.actor_critic:make_experiment",
    ],
)
def test_cartpole_experiments_run(device, tmp_path, factory):
    import importlib

    module, name = factory.split(":")
    options = (
        {"learning_starts": 50, "batch_size": 16, "target_update": 20} if "dqn" in module else {}
    )
    context = RunContext(device=torch.device(device), seed=0, steps=80, data="cartpole",
                         out_dir=tmp_path, options=options)  # fmt: skip
    experiment = getattr(importlib.import_module(module), name)(context)
    steps = {"dqn": 80, "policy_gradient": 3, "actor_critic": 40}[module.split(".")[-1]]
    for step in range(1, steps + 1):
        metrics = experiment.train_step(step)
        assert "loss" in metrics
    assert math.isfinite(metrics["loss"])
    for module_ in experiment.modules().values():
        assert all(p.device.type == torch.device(device).type for p in module_.parameters())
    if "dqn" in module:
        # The target network is never differentiated (updated only by copy or Polyak average).
        assert all(p.grad is None for p in experiment.target_network.parameters())
    result = experiment.evaluate()
    assert result["episodes"] >= 1 and "mean_return_last_100" in result
    paths = experiment.save_figures(tmp_path)
    assert paths and all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_dqn_learning_rate_decays_linearly_to_lr_final(tmp_path):
    from cheatsheet.rl.dqn import DQNExperiment

    options = {"lr": 1e-3, "lr_final": 1e-4, "learning_starts": 10_000, "hidden": 8}
    context = RunContext(device="cpu", seed=0, steps=10, data="cartpole", out_dir=tmp_path,
                         options=options)  # fmt: skip
    experiment = DQNExperiment(context)
    for step in range(10):
        experiment.train_step(step)
        expected = 1e-3 + min(1.0, step / 10) * (1e-4 - 1e-3)
        assert experiment.optimizer.param_groups[0]["lr"] == pytest.approx(expected)


def test_double_dqn_target_uses_online_argmax_and_target_value(device):
    torch.manual_seed(0)
    online = QNetwork(4, 3, 16).to(device)
    target = QNetwork(4, 3, 16).to(device)
    _, _, rewards, next_states, terminated = _batch(device, n=64)
    y = td_target(target, rewards, next_states, terminated, 0.9, online_network=online)
    assert not y.requires_grad
    # Direct computation, one transition at a time, from the definition.
    for i in range(64):
        a_star = int(online(next_states[i]).argmax())
        bootstrap = target(next_states[i])[a_star] * (1 - terminated[i])
        torch.testing.assert_close(y[i], (rewards[i] + 0.9 * bootstrap).detach())
    # The two targets differ where the networks disagree on the best next action.
    plain = td_target(target, rewards, next_states, terminated, 0.9)
    assert (plain >= y - 1e-6).all()  # max_a' Q_target >= Q_target at any chosen a'
    disagree = online(next_states).argmax(1) != target(next_states).argmax(1)
    assert disagree.any() and ((plain - y).abs() > 1e-6)[disagree & (terminated == 0)].all()
    # dqn_loss(double=True) regresses onto exactly this target, gradient only through Q(S, A).
    batch = _batch(device, n=64)
    loss, y_loss = dqn_loss(online, target, batch, gamma=0.9, loss="mse", double=True)
    torch.testing.assert_close(y_loss, td_target(target, *batch[2:], 0.9, online_network=online))
    loss.backward()
    assert all(p.grad is None for p in target.parameters())


def test_dqn_polyak_update_and_stop_when_solved(tmp_path):
    from cheatsheet.rl.dqn import DQNExperiment

    options = {"tau": 0.25, "learning_starts": 4, "batch_size": 4, "hidden": 8, "eval_episodes": 2}
    context = RunContext(device="cpu", seed=0, steps=10, data="cartpole", out_dir=tmp_path,
                         options=options)  # fmt: skip
    experiment = DQNExperiment(context)
    for step in range(6):
        target_before = [p.clone() for p in experiment.target_network.parameters()]
        experiment.train_step(step)
        for before, target, online in zip(target_before, experiment.target_network.parameters(),
                                           experiment.q_network.parameters()):  # fmt: skip
            torch.testing.assert_close(target, 0.75 * before + 0.25 * online)

    # Once the last-100 mean reaches 195 the run stops: the experiment sets `stopped` (the
    # harness's early stop) at the end of the episode that brought the mean there.
    for _ in range(99):
        experiment.log.add(200.0, 200, experiment.total_steps)
    step = 6
    while not experiment.stopped:
        experiment.train_step(step)
        step += 1
        assert step < 1000
    result = experiment.evaluate()
    episodes = len(experiment.log.returns)
    # One record of when it was solved: the episode counted from 1 and its environment steps.
    assert result["first_solved_episode"] == episodes
    assert result["first_solved_env_steps"] == experiment.total_steps == experiment.solved_at_step
    assert f"solved at step {experiment.total_steps}" in experiment.stopped
    assert result["greedy_eval_episodes"] == 2
    assert result["last_100_mean_return"] == experiment.log.mean_last(100) >= 195


def test_episode_log_counts_the_solving_episode_from_one():
    from cheatsheet.rl.episodes import EpisodeLog

    log = EpisodeLog()
    for episode in range(1, 201):
        log.add(0.0 if episode <= 60 else 300.0, 10, 10 * episode)
    # After episode k >= 100 the last 100 hold 160 - k zeros, so their mean 3 (k - 60) first
    # reaches 195 at k = 125: the 125th episode, 1250 environment steps.
    metrics = log.metrics(195.0)
    assert metrics["first_solved_episode"] == 125
    assert metrics["first_solved_env_steps"] == 1250
