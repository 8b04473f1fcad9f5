"""Reinforcement learning (sheet section 7): tabular MDPs, dynamic programming, Monte Carlo and
temporal-difference control, and the deep methods (DQN, REINFORCE, actor-critic) on CartPole."""
