"""Parametric body models (sheet section 9): a procedurally built articulated mesh, linear blend
skinning, an SMPL-style model learned from procedural bodies, SMPLify-style fitting to 2D joints
and a matplotlib renderer. Importing this package imports nothing heavy."""
