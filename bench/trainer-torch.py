"""PyTorch side of `npm run bench -- trainer --vs-torch`: the same critic and recovery steps as
bench/trainer.ts (twin 2x256 ReLU + sigmoid critic, Polyak target, Adam; Gaussian recovery
policy trained through the critic), timed on request so that the two sides interleave.

Protocol (stdin/stdout, one line each): the script prints one JSON line describing torch and the
BLAS it loaded, then answers `critic N` / `recovery N` with the seconds N steps took, and exits
on `quit`. Only the benchmark runs this; rshield itself never needs Python.
"""
import json
import math
import sys

import torch
from torch import nn

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
B, OBS, ACT, H = 256, 4, 3, 256
GAMMA, LR, TAU = 0.99, 3e-4, 0.005
torch.set_num_threads(THREADS)
torch.manual_seed(1)


def head(inp):
    return nn.Sequential(nn.Linear(inp, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, 1), nn.Sigmoid())


class Twin(nn.Module):
    def __init__(self):
        super().__init__()
        self.q1, self.q2 = head(OBS + ACT), head(OBS + ACT)

    def forward(self, obs, act):
        x = torch.cat([obs, act], 1)
        q1, q2 = self.q1(x), self.q2(x)
        return q1, q2, torch.max(q1, q2)


class Recovery(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(OBS, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU())
        self.mu = nn.Linear(H, ACT)
        self.log_std = nn.Parameter(torch.full((ACT,), math.log(0.1)))

    def forward(self, obs, eps):
        u = self.mu(self.trunk(obs)) + torch.exp(self.log_std.clamp(-6, 0)) * eps
        return torch.tanh(u)


critic, target = Twin(), Twin()
target.load_state_dict(critic.state_dict())
for p in target.parameters():
    p.requires_grad_(False)
policy = Recovery()
critic_opt = torch.optim.Adam(critic.parameters(), lr=LR)
policy_opt = torch.optim.Adam(policy.parameters(), lr=LR)

u = lambda *s: torch.rand(*s) * 2 - 1
obs, act, next_obs, next_act = u(B, OBS), u(B, ACT), u(B, OBS), u(B, ACT)
cost = (torch.rand(B, 1) < 0.1).float()
done = (torch.rand(B, 1) < 0.1).float()


def critic_step():
    with torch.no_grad():
        y = cost + (1 - done) * GAMMA * target(next_obs, next_act)[2]
    q1, q2, _ = critic(obs, act)
    loss = ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
    critic_opt.zero_grad(set_to_none=True)
    loss.backward()
    critic_opt.step()
    with torch.no_grad():
        for t, s in zip(target.parameters(), critic.parameters()):
            t.mul_(1 - TAU).add_(s, alpha=TAU)
    return loss


def recovery_step():
    # The critic is read, not trained: its weights get no gradient (as in the engine's graph).
    for p in critic.parameters():
        p.requires_grad_(False)
    loss = critic(obs, policy(obs, torch.randn(B, ACT)))[2].mean()
    policy_opt.zero_grad(set_to_none=True)
    loss.backward()
    policy_opt.step()
    for p in critic.parameters():
        p.requires_grad_(True)
    return loss


def blas_libraries():
    with open('/proc/self/maps', encoding='utf8') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line}
    return sorted(libs)


steps = {'critic': critic_step, 'recovery': recovery_step}
for run in steps.values():
    for _ in range(5):
        run()
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_libraries()}), flush=True)
clock = __import__('time').perf_counter
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == 'quit':
        break
    n = int(cmd[1])
    t0 = clock()
    for _ in range(n):
        loss = steps[cmd[0]]()
    print(json.dumps({'seconds': clock() - t0, 'loss': float(loss)}), flush=True)
