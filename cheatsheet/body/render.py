"""Pictures of the body model with matplotlib: a shaded 3D view of a mesh and a 2D image-plane
view (projected triangles drawn back to front, the painter's algorithm) with 2D joints on top.

World coordinates are y up; matplotlib's 3D axes are z up, so (x, y, z) is drawn at (x, z, y).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

LIGHT = np.array([0.3, 0.6, 0.75]) / np.linalg.norm([0.3, 0.6, 0.75])


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _intensity(triangles: np.ndarray) -> np.ndarray:
    """Lambertian brightness per triangle (two-sided), in [0.3, 1]."""
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    return 0.3 + 0.7 * np.abs(normals @ LIGHT)


def _shade(triangles: np.ndarray, base=(0.85, 0.65, 0.5)) -> np.ndarray:
    intensity = _intensity(triangles)
    return np.concatenate(
        [intensity[:, None] * np.asarray(base)[None], np.ones((len(intensity), 1))], 1
    )


def draw_mesh_3d(
    axis: Any,
    vertices: np.ndarray,
    faces: np.ndarray,
    title: str = "",
    joints=None,
    base=(0.85, 0.65, 0.5),
    face_colors: np.ndarray | None = None,
) -> None:
    """A shaded mesh; `face_colors` [F, 3] (e.g. skinning weights as colours) replace the one
    base colour and are shaded by the same light."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    v = np.asarray(vertices)[:, [0, 2, 1]]
    triangles = v[faces]
    colors = _shade(np.asarray(vertices)[faces], base)
    if face_colors is not None:
        intensity = _intensity(np.asarray(vertices)[faces])[:, None]
        colors[:, :3] = np.clip(intensity * np.asarray(face_colors)[:, :3], 0, 1)
    axis.add_collection3d(Poly3DCollection(triangles, facecolors=colors, linewidths=0))
    if joints is not None:
        j = np.asarray(joints)[:, [0, 2, 1]]
        axis.scatter(j[:, 0], j[:, 1], j[:, 2], color="k", s=6, depthshade=False)
    center = v.mean(0)
    half = 0.55 * (v.max(0) - v.min(0)).max()
    axis.set_xlim(center[0] - half, center[0] + half)
    axis.set_ylim(center[1] - half, center[1] + half)
    axis.set_zlim(center[2] - half, center[2] + half)
    axis.view_init(elev=12, azim=-70)
    axis.set_axis_off()
    axis.set_title(title, fontsize=9)


def draw_mesh_2d(
    axis: Any,
    vertices_2d: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    vertices_3d: np.ndarray,
    alpha: float = 1.0,
    base=(0.85, 0.65, 0.5),
) -> None:
    """Projected triangles, farthest first."""
    from matplotlib.collections import PolyCollection

    order = np.argsort(-depth[faces].mean(1))
    colors = _shade(vertices_3d[faces], base)[order]
    colors[:, 3] = alpha
    axis.add_collection(PolyCollection(vertices_2d[faces][order], facecolors=colors, linewidths=0))


def save_body_figure(
    path: Path,
    meshes: list[tuple[str, np.ndarray, np.ndarray | None]],
    faces: np.ndarray,
    image_panel: dict[str, Any] | None = None,
) -> Path:
    """3D panels (title, vertices, joints) and optionally an image-plane panel with keys
    vertices_2d, depth, vertices_3d, target_2d, fitted_2d, initial_2d, size, title."""
    plt = _pyplot()
    panels = len(meshes) + (1 if image_panel else 0)
    figure = plt.figure(figsize=(3.2 * panels, 3.8), dpi=100)
    for index, (title, vertices, joints) in enumerate(meshes):
        axis = figure.add_subplot(1, panels, index + 1, projection="3d")
        draw_mesh_3d(axis, vertices, faces, title, joints)
    if image_panel:
        axis = figure.add_subplot(1, panels, panels)
        draw_mesh_2d(
            axis,
            image_panel["vertices_2d"],
            image_panel["depth"],
            faces,
            image_panel["vertices_3d"],
            0.9,
        )
        for key, style, label in (
            ("initial_2d", dict(color="0.5", marker="+"), "initial"),
            ("target_2d", dict(color="tab:green", marker="x"), "2D joints (target)"),
            ("fitted_2d", dict(color="tab:red", marker="o", facecolors="none"), "fitted"),
        ):
            if image_panel.get(key) is not None:
                points = np.asarray(image_panel[key])
                axis.scatter(points[:, 0], points[:, 1], s=18, label=label, **style)
        size = image_panel["size"]
        axis.set_xlim(0, size)
        axis.set_ylim(size, 0)  # image rows grow downwards
        axis.set_aspect("equal")
        axis.legend(fontsize=6, loc="lower right")
        axis.set_title(image_panel.get("title", "image plane"), fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
