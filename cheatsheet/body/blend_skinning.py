"""`cheatsheet run lbs`: linear blend skinning on its own (sheet 9.3, formula
`linear-blend-skinning`), apart from the SMPL fit (`cheatsheet run smpl-fit`).

LBS moves each rest-pose vertex t_i by the weighted sum of its bones' rigid transforms,
    t'_i = sum_k w_ki G_k(theta, J) t_i,        w_ki >= 0,  sum_k w_ki = 1,
(cheatsheet/body/lbs.py). The blend of rigid transforms is not rigid: where two bones meet and
one is twisted about its axis by phi, a vertex with weights (1 - w, w) is mapped, in the plane
across the bone, by M = (1 - w) I + w R(phi), a rotation scaled by |(1 - w) + w e^(i phi)|,
so cross-section areas scale by      (1 - w)^2 + w^2 + 2 w (1 - w) cos phi,
which at the joint (w = 1/2) is cos^2(phi / 2): the ring shrinks as the twist grows and collapses
to a point at phi = 180 degrees, the "candy-wrapper" artefact (Lewis et al. 2000; Kavan et al.
2007). Dual-quaternion skinning (cheatsheet/body/smpl.py) blends the rotations instead, and every
vertex moves rigidly, so the area stays.

The run: the procedural body of cheatsheet/body/skeleton.py in its T-pose and posed, coloured by
its skinning weights; then a finely tessellated two-bone "forearm" twisted from 0 to
`max_twist_deg` about its bone, one twist angle per step. For every angle it measures the area of
each cross-section ring against the closed form above and the mesh volume, with LBS and with
dual quaternions. It trains nothing: there is no loss curve (loss_curve = False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cheatsheet.body import lbs, skeleton
from cheatsheet.runs.config import param


@dataclass
class LBSConfig:
    max_twist_deg: float = param(180.0, "the last twist of the forearm about its bone (degrees)")
    segments: int = param(32, "vertices around each ring of the twisted forearm")
    rings: int = param(41, "rings along the forearm (the joint ring is the middle one)")
    blend: float = param(0.3, "the weights blend between the two bones over +-blend bone lengths")
    radius: float = param(0.2, "forearm radius (the bones are 1 long)")

    def check(self) -> None:
        if self.segments < 3 or self.rings < 3:
            raise ValueError("segments and rings must be >= 3")
        if not 0 < self.blend <= 1:
            raise ValueError("blend must be in (0, 1]")


# --------------------------------------------------------------------------------------------
# A two-bone cylinder: bone 0 from x = 0 to the joint at x = 1, bone 1 from x = 1 to x = 2.

CYLINDER_PARENTS = (-1, 0)


@dataclass
class Cylinder:
    vertices: torch.Tensor  # [V, 3], ring-major: ring r holds vertices r*S .. r*S + S-1
    faces: np.ndarray  # [F, 3]
    weights: torch.Tensor  # [2, V]
    joints: torch.Tensor  # [2, 3]
    ring_x: torch.Tensor  # [R] position of each ring along the bone
    ring_weight: torch.Tensor  # [R] the child bone's weight w on that ring
    segments: int


def twisted_cylinder(rings: int, segments: int, radius: float, blend: float) -> Cylinder:
    """Rest mesh of the forearm with weights w_1(x) = clamp((x - 1 + blend) / (2 blend), 0, 1)
    (linear across the joint, 1/2 at it) and w_0 = 1 - w_1: a partition of unity."""
    x = torch.linspace(0.0, 2.0, rings, dtype=torch.float64)
    phi = torch.arange(segments, dtype=torch.float64) * (2 * math.pi / segments)
    X = x[:, None].expand(rings, segments)
    Y = radius * torch.cos(phi)[None].expand(rings, segments)
    Z = radius * torch.sin(phi)[None].expand(rings, segments)
    vertices = torch.stack([X, Y, Z], -1).reshape(-1, 3)
    ring_weight = ((x - 1.0 + blend) / (2 * blend)).clamp(0.0, 1.0)
    w1 = ring_weight[:, None].expand(rings, segments).reshape(-1)
    weights = torch.stack([1.0 - w1, w1])
    faces = []
    for r in range(rings - 1):
        for k in range(segments):
            a, b = r * segments + k, r * segments + (k + 1) % segments
            faces += [(a, b, a + segments), (b, b + segments, a + segments)]
    joints = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    return Cylinder(vertices, np.asarray(faces), weights, joints, x, ring_weight, segments)


def twist_transforms(cylinder: Cylinder, angle: float) -> torch.Tensor:
    """G [2, 4, 4]: bone 0 at rest, bone 1 twisted by `angle` (radians) about the bone (x)."""
    axis_angle = torch.tensor([[0.0, 0.0, 0.0], [angle, 0.0, 0.0]], dtype=torch.float64)
    G, _ = lbs.forward_kinematics(lbs.rodrigues(axis_angle), cylinder.joints, CYLINDER_PARENTS)
    return G


def ring_areas(vertices: torch.Tensor, segments: int) -> torch.Tensor:
    """Area of each ring's polygon projected on the plane across the bone (y, z), shoelace."""
    rings = vertices.reshape(-1, segments, 3)
    y, z = rings[..., 1], rings[..., 2]
    y_next, z_next = y.roll(-1, dims=1), z.roll(-1, dims=1)
    return 0.5 * (y * z_next - y_next * z).sum(1).abs()


def tube_volume(vertices: torch.Tensor, cylinder: Cylinder) -> float:
    """Volume of the tube by the trapezoid rule over its ring areas along x."""
    areas = ring_areas(vertices, cylinder.segments)
    return float(torch.trapezoid(areas, cylinder.ring_x))


def lbs_area_ratio(weight: torch.Tensor | float, angle: float) -> torch.Tensor | float:
    """Closed form: |(1 - w) + w e^(i phi)|^2 = (1 - w)^2 + w^2 + 2 w (1 - w) cos phi."""
    return (1 - weight) ** 2 + weight**2 + 2 * weight * (1 - weight) * math.cos(angle)


def skin(cylinder: Cylinder, angle: float, method: str = "lbs") -> torch.Tensor:
    G = twist_transforms(cylinder, angle)
    if method == "lbs":
        return lbs.linear_blend_skinning(cylinder.vertices, cylinder.weights, G)
    from cheatsheet.body.smpl import dual_quaternion_skinning

    return dual_quaternion_skinning(cylinder.vertices, cylinder.weights, G)


# --------------------------------------------------------------------------------------------
# The procedural body: weights as colours, a pose.


def joint_colours(count: int) -> np.ndarray:
    """One colour per joint, so the blend of colours shows the blend of weights: tab20's
    strong colours first, then its light ones (neighbouring joints get unlike colours)."""
    import matplotlib

    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return np.asarray(matplotlib.colormaps["tab20"](np.asarray(order)[np.arange(count) % 20]))[
        :, :3
    ]


def weight_colours(weights: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per-face colours sum_k w_k colour_k (averaged over the face's three vertices)."""
    vertex_colours = weights.T @ joint_colours(weights.shape[0])  # [V, 3]
    return vertex_colours[faces].mean(1)


def demo_pose() -> torch.Tensor:
    """Axis-angle [K, 3]: arms lowered and bent, a knee and a hip bent, the head turned."""
    pose = torch.zeros(skeleton.NUM_JOINTS, 3, dtype=torch.float64)
    index = skeleton.JOINT_NAMES.index
    pose[index("left_shoulder")] = torch.tensor([0.0, 0.0, -1.0])
    pose[index("left_elbow")] = torch.tensor([0.0, -1.3, 0.0])
    pose[index("right_shoulder")] = torch.tensor([0.0, 0.0, 0.7])
    pose[index("right_elbow")] = torch.tensor([0.0, 0.9, 0.0])
    pose[index("left_hip")] = torch.tensor([-0.7, 0.0, 0.0])
    pose[index("left_knee")] = torch.tensor([1.2, 0.0, 0.0])
    pose[index("right_hip")] = torch.tensor([0.25, 0.0, 0.0])
    pose[index("neck")] = torch.tensor([0.0, 0.5, 0.0])
    pose[index("spine")] = torch.tensor([0.15, 0.0, 0.0])
    return pose


def pose_body(pose: torch.Tensor) -> dict[str, Any]:
    """The default procedural body in the T-pose and posed by LBS with its own weights."""
    body = skeleton.build_mesh(skeleton.BodyParameters())
    rest = torch.from_numpy(body.vertices)
    joints = torch.from_numpy(body.joints)
    weights = torch.from_numpy(skeleton.skinning_weights())
    G, posed_joints = lbs.forward_kinematics(lbs.rodrigues(pose), joints, skeleton.PARENTS)
    posed = lbs.linear_blend_skinning(rest, weights, G)
    return {"rest": rest, "joints": joints, "weights": weights, "posed": posed,
            "posed_joints": posed_joints, "faces": skeleton.faces()}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The run


class LBSExperiment:
    """One step = one twist angle of the forearm; nothing is trained."""

    loss_curve = False  # the harness draws no loss.png: this run measures, it does not train

    def __init__(self, context: Any):
        self.config: LBSConfig = context.settings(LBSConfig, "lbs")
        config = self.config
        self.steps = max(int(context.steps), 1)
        self.cylinder = twisted_cylinder(config.rings, config.segments, config.radius, config.blend)
        self.rest_areas = ring_areas(self.cylinder.vertices, config.segments)
        self.rest_volume = tube_volume(self.cylinder.vertices, self.cylinder)
        self.joint_ring = int(torch.argmin((self.cylinder.ring_x - 1.0).abs()))
        self.records: list[dict[str, float]] = []

    def modules(self) -> dict[str, Any]:
        return {}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def angle(self, step: int) -> float:
        """Twist of step `step`: 0 .. max_twist evenly over the run's steps (radians)."""
        fraction = step / (self.steps - 1) if self.steps > 1 else 1.0
        return math.radians(self.config.max_twist_deg) * fraction

    def measure(self, angle: float) -> dict[str, float]:
        cylinder, ring = self.cylinder, self.joint_ring
        record: dict[str, float] = {"twist_deg": math.degrees(angle)}
        expected = lbs_area_ratio(cylinder.ring_weight, angle)
        for method in ("lbs", "dqs"):
            posed = skin(cylinder, angle, method)
            ratios = ring_areas(posed, cylinder.segments) / self.rest_areas
            record[f"{method}_joint_area_ratio"] = float(ratios[ring])
            record[f"{method}_volume_ratio"] = tube_volume(posed, cylinder) / self.rest_volume
            if method == "lbs":
                # measured against the closed form on every ring (each with its own weight)
                record["lbs_max_gap_to_closed_form"] = float((ratios - expected).abs().max())
        record["closed_form_joint_area_ratio"] = float(expected[ring])
        return record

    def train_step(self, step: int) -> dict[str, float]:
        record = self.measure(self.angle(step))
        self.records.append(record)
        return {"twist_deg": record["twist_deg"]}

    def state_dict(self) -> dict[str, Any]:
        keys = sorted(self.records[0]) if self.records else []
        table = [[record[key] for key in keys] for record in self.records]
        return {"keys": ",".join(keys), "records": torch.tensor(table, dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        keys = [key for key in str(state["keys"]).split(",") if key]
        rows = state["records"].tolist()
        self.records = [dict(zip(keys, row, strict=True)) for row in rows]

    def evaluate(self) -> dict[str, Any]:
        last = self.records[-1] if self.records else self.measure(self.angle(self.steps - 1))
        body = pose_body(demo_pose())
        weights = body["weights"]
        return {
            "max_twist_deg": last["twist_deg"],
            "lbs_joint_area_ratio_at_max_twist": last["lbs_joint_area_ratio"],
            "closed_form_area_ratio_at_max_twist": last["closed_form_joint_area_ratio"],
            "dqs_joint_area_ratio_at_max_twist": last["dqs_joint_area_ratio"],
            "lbs_volume_ratio_at_max_twist": last["lbs_volume_ratio"],
            "dqs_volume_ratio_at_max_twist": last["dqs_volume_ratio"],
            "lbs_max_gap_to_closed_form": max(
                (record["lbs_max_gap_to_closed_form"] for record in self.records), default=None
            ),
            "twists_measured": len(self.records),
            "body_vertices": int(body["rest"].shape[0]),
            "body_joints": int(body["joints"].shape[0]),
            "body_weights_sum_to_one": bool(
                torch.allclose(weights.sum(0), torch.ones(1, dtype=weights.dtype))
            ),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        return [self._body_figure(Path(out_dir)), self._wrapper_figure(Path(out_dir))]

    def _body_figure(self, out_dir: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        from cheatsheet.body.render import draw_mesh_3d

        body = pose_body(demo_pose())
        faces = body["faces"]
        colours = weight_colours(body["weights"].numpy(), faces)
        figure = plt.figure(figsize=(14, 6.5), dpi=100)
        panels = (
            ("T-pose (rest), coloured by skinning weights", body["rest"], body["joints"]),
            ("posed by LBS: t'_i = sum_k w_ki G_k t_i", body["posed"], body["posed_joints"]),
        )
        for index, (title, vertices, joints) in enumerate(panels):
            axis = figure.add_subplot(1, 2, index + 1, projection="3d")
            draw_mesh_3d(axis, vertices.numpy(), faces, title, joints.numpy(),
                         face_colors=colours)  # fmt: skip
            axis.title.set_fontsize(12)
            axis.set_box_aspect(None, zoom=1.5)
        palette = joint_colours(skeleton.NUM_JOINTS)
        handles = [Patch(color=palette[k], label=name.replace("_", " "))
                   for k, name in enumerate(skeleton.JOINT_NAMES)]  # fmt: skip
        legend_title = "joint colour (a vertex shows the weight-blend of its joints' colours)"
        figure.legend(handles=handles, loc="lower center", ncol=8, fontsize=9, title=legend_title)
        figure.suptitle("Linear blend skinning of the procedural body", fontsize=14)
        figure.subplots_adjust(left=0.0, right=1.0, top=0.9, bottom=0.16, wspace=0.0)
        path = out_dir / "lbs_body.png"
        figure.savefig(path)
        plt.close(figure)
        return path

    def _wrapper_figure(self, out_dir: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from cheatsheet.body.render import draw_mesh_3d

        cylinder = self.cylinder
        angle = math.radians(self.config.max_twist_deg)
        # Stripes along the rest mesh make the twist visible; colours blend bone 0 -> bone 1.
        weights = cylinder.weights.numpy()
        base = weights.T @ np.array([[0.3, 0.5, 0.9], [0.95, 0.55, 0.2]])
        stripe = np.where((np.arange(len(base)) % cylinder.segments) // 4 % 2 == 0, 1.0, 0.45)
        colours = base[cylinder.faces].mean(1) * stripe[cylinder.faces[:, 0], None]
        figure = plt.figure(figsize=(15, 5.2), dpi=100)
        grid = figure.add_gridspec(1, 3, width_ratios=(1, 1, 1.15))
        methods = (("lbs", "linear blend skinning"), ("dqs", "dual-quaternion skinning"))
        for column, (method, label) in enumerate(methods):
            axis = figure.add_subplot(grid[0, column], projection="3d")
            posed = skin(cylinder, angle, method).numpy()
            draw_mesh_3d(axis, posed, cylinder.faces, "", face_colors=colours)
            axis.view_init(elev=20, azim=-75)
            axis.set_box_aspect(None, zoom=1.3)
            ratio = float(ring_areas(torch.from_numpy(posed), cylinder.segments)[self.joint_ring]
                          / self.rest_areas[self.joint_ring])  # fmt: skip
            axis.set_title(f"{label}, twist {self.config.max_twist_deg:g} deg\n"
                           f"area at the joint / rest area = {ratio:.3g}", fontsize=12)  # fmt: skip
        axis = figure.add_subplot(grid[0, 2])
        if self.records:
            twist = [r["twist_deg"] for r in self.records]
            series = (
                ("lbs_joint_area_ratio", "o", "tab:red", "LBS, measured (joint ring)"),
                ("dqs_joint_area_ratio", "s", "tab:blue", "dual quaternions, measured"),
                ("lbs_volume_ratio", "-", "tab:orange", "LBS, volume of the forearm / rest"),
            )
            for key, style, colour, label in series:
                values = [record[key] for record in self.records]
                axis.plot(twist, values, style, color=colour, markersize=4, label=label)
        fine = np.linspace(0.0, self.config.max_twist_deg, 200)
        axis.plot(fine, np.cos(np.radians(fine) / 2) ** 2, "k--", linewidth=1,
                  label="closed form cos^2(phi/2) (w = 1/2)")  # fmt: skip
        axis.set_xlabel("twist phi of the second bone about its axis (degrees)")
        axis.set_ylabel("ratio to the rest pose")
        axis.set_title("The candy-wrapper collapse", fontsize=12)
        axis.set_ylim(-0.03, 1.08)
        axis.legend(fontsize=9, loc="lower left")
        axis.grid(alpha=0.3)
        figure.subplots_adjust(left=0.0, right=0.98, top=0.86, bottom=0.11, wspace=0.05)
        path = out_dir / "candy_wrapper.png"
        figure.savefig(path)
        plt.close(figure)
        return path


def make_experiment(context: Any) -> LBSExperiment:
    return LBSExperiment(context)
