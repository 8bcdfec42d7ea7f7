"""The training runtime's rules (engine/train/runtime.py) for cards we state, and gradient
checkpointing on real tiny models: the same loss and gradients, far fewer tensors kept for
the backward pass."""
from __future__ import annotations

import pytest
import torch

from engine.events import StepError
from engine.train.runtime import apply, decide

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
A100_80GB = (8, 80.0, True)
T4_16GB = (7, 15.0, False)
RTX3060_8GB = (8, 8.0, True)


def test_an_ampere_card_gets_tf32_fp16_workers_and_no_checkpointing():
    rt = decide(CUDA, cuda_facts=A100_80GB, cores=16)
    assert (rt.amp, rt.tf32, rt.grad_checkpoint, rt.pin_memory) == ("fp16", True, False, True)
    assert rt.workers == 4 and rt.scaler_needed
    assert any("TF32" in n for n in rt.notes)


def test_an_older_small_card_gets_no_tf32_and_checkpointing_with_a_reason():
    rt = decide(CUDA, cuda_facts=(7, 6.0, False), cores=4)
    assert not rt.tf32 and rt.grad_checkpoint and rt.workers == 3
    assert any("gradient checkpointing on" in n and "6 GB" in n for n in rt.notes)


def test_bf16_where_the_card_has_it_and_a_sentence_where_it_has_not():
    rt = decide(CUDA, amp="bf16", cuda_facts=RTX3060_8GB, cores=8)
    assert rt.amp == "bf16" and not rt.scaler_needed
    with pytest.raises(StepError, match="no bf16 support"):
        decide(CUDA, amp="bf16", cuda_facts=T4_16GB)


def test_workers_are_shared_between_ranks_and_cpu_runs_load_in_process():
    assert decide(CUDA, cuda_facts=A100_80GB, cores=8, world_size=4).workers == 1
    rt = decide(CPU, amp="fp16", cores=16)
    assert (rt.amp, rt.workers, rt.pin_memory, rt.tf32) == ("off", 0, False, False)
    assert any("needs a GPU" in n for n in rt.notes)


def test_checkpointing_can_be_forced_either_way():
    assert decide(CUDA, grad_checkpoint="off", cuda_facts=RTX3060_8GB).grad_checkpoint is False
    assert decide(CPU, grad_checkpoint="on").grad_checkpoint is True


def _saved_bytes(fn) -> tuple[torch.Tensor, int]:
    """Run fn() and count the bytes autograd keeps for backward (what checkpointing saves)."""
    total = 0

    def pack(t: torch.Tensor):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, total


def _grads(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in model.parameters() if p.grad is not None]


def _compare(model: torch.nn.Module, loss_fn) -> tuple[int, int]:
    runs = []
    for on in (False, True):
        apply(decide(CPU, grad_checkpoint="on" if on else "off"), model)
        model.zero_grad(set_to_none=True)
        torch.manual_seed(7)  # the same dropout draws in both runs
        loss, saved = _saved_bytes(lambda: loss_fn(model))
        loss.backward()
        runs.append((loss.detach(), _grads(model), saved))
    (l0, g0, s0), (l1, g1, s1) = runs
    assert torch.equal(l0, l1)
    assert len(g0) == len(g1) > 0
    for a, b in zip(g0, g1):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    return s0, s1


def test_gpt_checkpointing_keeps_the_gradients_and_saves_less(one_thread):
    from engine.models.gpt.config import GptConfig
    from engine.models.gpt.model import Text2Semantic

    torch.manual_seed(0)
    model = Text2Semantic(GptConfig(embedding_dim=64, hidden_dim=64, head=4, n_layer=4,
                                    phoneme_vocab_size=40, vocab_size=65, EOS=64)).train()
    phones = torch.randint(0, 40, (2, 12))
    codes = torch.randint(0, 64, (2, 30))
    bert = torch.randn(2, 1024, 12)

    def loss(m):
        logits, targets, valid = m.forward_train(phones, torch.tensor([12, 9]), codes,
                                                 torch.tensor([30, 22]), bert)
        return torch.nn.functional.cross_entropy(logits[valid], targets[valid])

    plain, recomputed = _compare(model, loss)
    assert recomputed < plain / 2, (plain, recomputed)


def test_sovits_decoder_checkpointing_keeps_the_gradients_and_saves_less(one_thread):
    from engine.models.sovits.generator import Generator

    torch.manual_seed(0)
    dec = Generator(16, [3, 5], [[1, 3], [1, 3]], [4, 4], 32, [8, 8], gin_channels=8).train()
    z, g = torch.randn(2, 16, 40), torch.randn(2, 8, 1)

    plain, recomputed = _compare(dec, lambda m: m(z, g).pow(2).mean())
    assert recomputed < plain / 2, (plain, recomputed)


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
