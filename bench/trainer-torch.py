"""PyTorch side of `npm run bench -- trainer --vs-torch`: the same critic and recovery steps as
bench/trainer.ts (twin 2x256 ReLU + sigmoid critic, Polyak target, Adam; Gaussian recovery
policy trained through the critic) and the same SAC update as src/learn/sac/sac-agent.ts (twin
soft Q 2x256 with a Polyak target, tanh-squashed Gaussian policy 2x256 with state-dependent
log std, alpha 0.2 fixed, both Adam steps) and the same PETS ensemble step as
src/learn/dynamics-ensemble.ts (5 members batched as [E, in, out] weights, 3x200 swish, mean and
soft-clamped log-variance, Gaussian NLL + weight decay + log-variance bounds, Adam lr 1e-3, 32
rows per member), timed on request so that the two sides interleave.

Protocol (stdin/stdout, one line each): the script prints one JSON line describing torch and the
BLAS it loaded, then answers `critic N` / `recovery N` / `sac N` / `pets N` with the seconds N steps took,
and exits on `quit`. Only the benchmark runs this; rshield itself never needs Python.
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


ALPHA, LOG2 = 0.2, math.log(2.0)


def mlp(inp, out):
    return nn.Sequential(nn.Linear(inp, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, out))


class SoftTwin(nn.Module):
    def __init__(self):
        super().__init__()
        self.q1, self.q2 = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)


class SacPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(OBS, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU())
        self.mu, self.log_std = nn.Linear(H, ACT), nn.Linear(H, ACT)

    def sample(self, obs):
        h = self.trunk(obs)
        mu, log_std = self.mu(h), self.log_std(h).clamp(-20, 2)
        u = mu + torch.exp(log_std) * torch.randn_like(mu)
        # log N(u; mu, sigma) - log(1 - tanh(u)^2), the latter as 2(log 2 - u - softplus(-2u)).
        gauss = -0.5 * ((u - mu) / torch.exp(log_std)) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
        log_det = 2 * (LOG2 - u - nn.functional.softplus(-2 * u))
        return torch.tanh(u), (gauss - log_det).sum(1, keepdim=True)


def twin_q(net, obs, act):
    x = torch.cat([obs, act], 1)
    return net.q1(x), net.q2(x)


sac_q, sac_q_target, sac_pi = SoftTwin(), SoftTwin(), SacPolicy()
sac_q_target.load_state_dict(sac_q.state_dict())
for p in sac_q_target.parameters():
    p.requires_grad_(False)
sac_q_opt = torch.optim.Adam(sac_q.parameters(), lr=LR)
sac_pi_opt = torch.optim.Adam(sac_pi.parameters(), lr=LR)
reward, mask = torch.randn(B, 1), (torch.rand(B, 1) > 0.05).float()


def sac_step():
    # As the engine's one graph: both losses on this step's starting weights, then both Adam
    # steps and the target update; the policy loss gives the Q weights no gradient.
    with torch.no_grad():
        next_a, next_logp = sac_pi.sample(next_obs)
        y = reward + mask * GAMMA * (torch.min(*twin_q(sac_q_target, next_obs, next_a)) - ALPHA * next_logp)
    q1, q2 = twin_q(sac_q, obs, act)
    q_loss = ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
    for p in sac_q.parameters():
        p.requires_grad_(False)
    a, logp = sac_pi.sample(obs)
    pi_loss = (ALPHA * logp - torch.min(*twin_q(sac_q, obs, a))).mean()
    for p in sac_q.parameters():
        p.requires_grad_(True)
    sac_q_opt.zero_grad(set_to_none=True)
    sac_pi_opt.zero_grad(set_to_none=True)
    q_loss.backward()
    pi_loss.backward()
    sac_q_opt.step()
    sac_pi_opt.step()
    with torch.no_grad():
        for t, s in zip(sac_q_target.parameters(), sac_q.parameters()):
            t.mul_(1 - TAU).add_(s, alpha=TAU)
    return q_loss


E, PH, PB = 5, 200, 32
WEIGHT_DECAY = [0.00025, 0.0005, 0.0005, 0.00075]


class Ensemble(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [OBS + ACT, PH, PH, PH, 2 * OBS]
        self.w = nn.ParameterList([nn.Parameter(torch.randn(E, i, o) / (2 * math.sqrt(i))) for i, o in zip(widths, widths[1:])])
        self.b = nn.ParameterList([nn.Parameter(torch.zeros(E, 1, o)) for o in widths[1:]])
        self.max_lv = nn.Parameter(torch.full((1, 1, OBS), 0.5))
        self.min_lv = nn.Parameter(torch.full((1, 1, OBS), -10.0))

    def forward(self, x):
        h = x
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.w) - 1:
                h = h * torch.sigmoid(h)
        mean, raw = h[..., :OBS], h[..., OBS:]
        upper = self.max_lv - nn.functional.softplus(self.max_lv - raw)
        return mean, self.min_lv + nn.functional.softplus(upper - self.min_lv)


pets = Ensemble()
pets_opt = torch.optim.Adam(pets.parameters(), lr=1e-3)
pets_x, pets_y = torch.randn(E, PB, OBS + ACT), torch.randn(E, PB, OBS)


def pets_step():
    mean, logvar = pets(pets_x)
    loss = (((mean - pets_y) ** 2) * torch.exp(-logvar) + logvar).mean() * E
    loss = loss + 0.01 * (pets.max_lv.sum() - pets.min_lv.sum())
    for i, w in enumerate(pets.w):
        loss = loss + (w ** 2).sum() * WEIGHT_DECAY[min(i, len(WEIGHT_DECAY) - 1)] / 2
    pets_opt.zero_grad(set_to_none=True)
    loss.backward()
    pets_opt.step()
    return loss


def blas_libraries():
    with open('/proc/self/maps', encoding='utf8') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line}
    return sorted(libs)


steps = {'critic': critic_step, 'recovery': recovery_step, 'sac': sac_step, 'pets': pets_step}
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
