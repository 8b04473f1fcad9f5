"""Neural implicit representations and rendering (sheet section 8): analytic shapes, occupancy
networks, DeepSDF, IGR, marching cubes, differentiable volumetric rendering, NeRF (with an
Instant-NGP hash grid) and 3D Gaussian splatting. Every module imports torch itself; importing
this package imports nothing heavy."""
