"""Runs past one machine with PyTorch's own engine: torchrun + DistributedDataParallel.

    torchrun --standalone --nproc_per_node 2 -m cheatsheet run vae --device cpu

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; `setup` joins the process group (gloo on CPU,
NCCL on CUDA) and `wrap` puts a module in DistributedDataParallel, which averages gradients
across ranks in `backward()`. Without those variables everything is a no-op (world size 1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def world_from_env() -> World:
    """Read torchrun's environment (rank 0 of 1 when not launched by torchrun)."""
    return World(
        rank=int(os.environ.get("RANK", "0")),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def setup(world: World, device: Any) -> None:
    """Join the process group: NCCL for CUDA tensors, gloo for CPU ones."""
    if not world.distributed:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        return
    # torch.distributed.nn.functional writes `group=group.WORLD` as default arguments, evaluated
    # when it is imported. DistributedDataParallel imports it lazily, i.e. after this function
    # has made the default group, so those defaults would keep the group alive for good:
    # destroy_process_group could not free it and gloo's threads would run on into interpreter
    # shutdown (see `teardown`). Imported first, the defaults hold None.
    import torch.distributed.nn.functional  # noqa: F401

    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        import torch

        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=world.rank, world_size=world.world_size)


def make_wrap(world: World, device: Any):
    """The RunContext.wrap function: DistributedDataParallel when world_size > 1."""

    def wrap(module: Any, **ddp_options: Any) -> Any:
        if not world.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        if not any(parameter.requires_grad for parameter in module.parameters()):
            return module  # DDP refuses modules with nothing to train (e.g. a frozen encoder)
        # Buffers are synced once at construction but not re-broadcast on every forward: that
        # collective would deadlock when only rank 0 runs a forward pass (the figures).
        import inspect

        if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
            ddp_options.setdefault("forward_sync_buffers", False)
        else:
            ddp_options.setdefault("broadcast_buffers", False)
        if device.type == "cuda":
            ddp_options.setdefault("device_ids", [device.index])
        return DistributedDataParallel(module, **ddp_options)

    return wrap


def parameters_in_sync(world: World, modules: dict[str, Any]) -> bool:
    """True when every rank holds the same parameters (DDP's invariant), by all-gathering a
    float64 checksum of each rank's parameters."""
    if not world.distributed:
        return True
    import torch
    import torch.distributed as dist

    from cheatsheet.runs.checkpoint import unwrap

    values = [
        parameter.detach().double().sum() + (parameter.detach().double() ** 2).sum()
        for module in modules.values()
        for parameter in unwrap(module).parameters()
    ]
    device = values[0].device if values else torch.device("cpu")
    checksum = torch.stack(values).sum() if values else torch.zeros((), device=device)
    gathered = [torch.zeros_like(checksum) for _ in range(world.world_size)]
    dist.all_gather(gathered, checksum)
    reference = gathered[0]
    return all(torch.allclose(value, reference, rtol=1e-9, atol=1e-9) for value in gathered)


def barrier(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        dist.barrier()


def teardown(world: World) -> None:
    """Leave the process group so that no gloo thread outlives it into process exit.

    Two things can abort a rank (SIGABRT) at the end of a run:
    - A gloo collective returns on a rank as soon as *it* has heard from every peer, so one
      rank can close its gloo connections while a peer's gloo thread is still finishing the
      last barrier. So every rank first announces, through the rendezvous store (which
      torchrun's agent hosts, so no rank's exit takes it down), that it is past its last
      collective, and waits until every rank has said so.
    - destroy_process_group only unregisters the group; the ProcessGroupGloo object, with its
      two worker threads and gloo's socket-loop thread, lives on while anything still holds
      it (a DistributedDataParallel wrapper and its reducer do; see also `setup`). Those
      threads would then still run while the interpreter shuts down and C++ static objects
      are destroyed, and one wakes up exactly then: when the peer exits, its sockets close.
      So the wrappers must be gone first: the harness calls this after the run's modules
      are out of scope, and gc.collect() frees any caught in reference cycles. With no owner
      left, destroy_process_group frees the group, which joins its threads, and the rank
      exits with the main thread alone (tests/test_runs_harness.py checks this).
    """
    if not world.distributed:
        return
    import datetime
    import gc

    import torch.distributed as dist

    if not dist.is_initialized():
        return
    try:
        store = dist.distributed_c10d._get_default_store()
    except (AttributeError, RuntimeError, ValueError):
        store = None
    if store is not None:
        store.set(f"cheatsheet/teardown/{world.rank}", "done")
        store.wait(
            [f"cheatsheet/teardown/{rank}" for rank in range(world.world_size)],
            datetime.timedelta(seconds=120),
        )
    gc.collect()
    dist.destroy_process_group()
