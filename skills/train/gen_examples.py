#!/usr/bin/env python3
"""Seeded example generators for the shipped skills.

    python3 skills/train/gen_examples.py rover skills/rover
    python3 skills/train/gen_examples.py arm skills/arm

writes `examples.jsonl` (what the adapter is trained on) and `heldout.jsonl` (what its
accuracy is measured on) into the skill folder. Each line is
`{"command": "...", "plan": [...]}` with the plan in the action vocabulary of
shared/DESIGN.md. The same seed gives the same files.

Held-out commands never appear in the training set, and half of them use phrasings
(verbs, sentence shapes) that no training example uses: the held-out figure measures
generalisation, not recall.
"""

import json
import random
import sys
from pathlib import Path

SEED = 20261127
N_TRAIN = 600
N_HELDOUT = 60

WORDS = {
    1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
    9: "nine", 10: "ten", 12: "twelve", 15: "fifteen", 20: "twenty", 30: "thirty",
    40: "forty", 45: "forty-five", 60: "sixty", 90: "ninety", 120: "a hundred and twenty",
    180: "a hundred and eighty",
}


def num(x):
    """A number as the grammar writes it: integers bare, else at most two decimals."""
    x = round(x, 2)
    return int(x) if x == int(x) else x


def say(n, rng):
    """A whole number in digits or words."""
    if n in WORDS and rng.random() < 0.4:
        return WORDS[n]
    return str(n)


# ---------------------------------------------------------------- rover

def distance(rng):
    """(phrase, meters) for a distance of at most 5 m."""
    kind = rng.choice(["m", "m", "words", "cm", "frac", "half"])
    if kind == "m":
        d = rng.choice([0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 0.8, 1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5])
        unit = rng.choice(["m", " m", " meters", " metres"]) if d != 1 else rng.choice([" m", " meter", " metre"])
        return f"{d}{unit}", d
    if kind == "words":
        d = rng.choice([1, 2, 3, 4, 5])
        unit = "meter" if d == 1 else "meters"
        return f"{WORDS[d]} {unit}", d
    if kind == "cm":
        c = rng.choice([10, 20, 25, 30, 40, 50, 60, 75, 80, 90, 120, 150])
        return f"{c} {rng.choice(['cm', 'centimeters', 'centimetres'])}", c / 100
    if kind == "frac":
        return rng.choice([("a quarter of a meter", 0.25), ("one and a half meters", 1.5), ("a meter", 1)])
    return "half a meter", 0.5


def angle(rng):
    """(phrase, degrees) for a turn of up to 270 degrees."""
    a = rng.choice([10, 15, 20, 30, 45, 60, 90, 90, 90, 120, 135, 150, 180, 270])
    unit = rng.choice([" degrees", " degrees", "°", " deg"])
    return f"{say(a, rng)}{unit}", a


def seconds(rng):
    s = rng.choice([1, 2, 3, 4, 5, 8, 10, 15, 20, 30, 0.5, 1.5, 2.5])
    if s == 0.5:
        return "half a second", 0.5
    if s == int(s):
        s = int(s)
        return f"{say(s, rng)} {'second' if s == 1 else 'seconds'}", s
    return f"{s} seconds", s


# A template is a function rng -> (text, [actions]); these two serve both skills.
def stop(pats):
    return lambda rng: (rng.choice(pats), [{"action": "stop"}])


def wait(pats):
    def f(rng):
        p, s = seconds(rng)
        return rng.choice(pats).format(s=p), [{"action": "wait", "seconds": num(s)}]
    return f

def rover_templates():
    fwd_train = ["drive forward {d}", "go forward {d}", "move forward {d}", "move ahead {d}", "drive {d}",
                 "roll forward {d}", "go {d} forward"]
    fwd_held = ["advance {d}", "head forward {d}", "go straight for {d}"]
    back_train = ["drive backward {d}", "back up {d}", "reverse {d}", "move back {d}", "go backwards {d}"]
    back_held = ["retreat {d}", "back off {d}"]
    left_train = ["turn left {a}", "rotate left {a}", "turn {a} to the left", "spin left {a}"]
    left_held = ["veer left {a}", "pivot {a} left"]
    right_train = ["turn right {a}", "rotate right {a}", "turn {a} to the right", "spin right {a}"]
    right_held = ["veer right {a}", "pivot {a} right"]
    stop_train = ["stop", "halt", "stop now", "stop moving", "freeze"]
    stop_held = ["cease all motion", "hold still"]
    wait_train = ["wait {s}", "pause for {s}", "wait for {s}", "sit still for {s}"]
    wait_held = ["hold on for {s}", "stay put for {s}"]
    out_train = [("turn on the {o}", True), ("switch on the {o}", True), ("turn the {o} on", True),
                 ("turn off the {o}", False), ("switch off the {o}", False), ("turn the {o} off", False)]
    out_held = [("enable the {o}", True), ("disable the {o}", False), ("kill the {o}", False)]

    def drive(pats, sign):
        def f(rng):
            p, d = distance(rng)
            return rng.choice(pats).format(d=p), [{"action": "drive", "distance_m": num(sign * d)}]
        return f

    def turn(pats, sign):
        def f(rng):
            p, a = angle(rng)
            return rng.choice(pats).format(a=p), [{"action": "turn", "angle_deg": num(sign * a)}]
        return f

    def output(pats):
        def f(rng):
            pat, on = rng.choice(pats)
            o = rng.choice(["lights", "horn"])
            return pat.format(o=o), [{"action": "output", "name": o, "on": on}]
        return f

    def special(rng):
        return rng.choice([("turn around", [{"action": "turn", "angle_deg": 180}]),
                           ("do a full circle", [{"action": "turn", "angle_deg": 360}]),
                           ("make a quarter turn to the left", [{"action": "turn", "angle_deg": 90}]),
                           ("make a quarter turn to the right", [{"action": "turn", "angle_deg": -90}])])

    train = [drive(fwd_train, 1), drive(back_train, -1), turn(left_train, 1), turn(right_train, -1),
             stop(stop_train), wait(wait_train), output(out_train), special]
    held = [drive(fwd_held, 1), drive(back_held, -1), turn(left_held, 1), turn(right_held, -1),
            stop(stop_held), wait(wait_held), output(out_held)]
    return train, held


# ---------------------------------------------------------------- arm

JOINTS = {"base": (-90, 90), "shoulder": (-80, 80), "elbow": (-120, 120), "wrist": (-90, 90)}


def arm_templates():
    set_train = ["set the {j} to {a}", "move the {j} to {a}", "put the {j} at {a}", "{j} to {a}",
                 "rotate the {j} to {a}", "bring the {j} to {a}"]
    set_held = ["position the {j} at {a}", "angle the {j} to {a}"]
    raise_train = ["raise the {j} to {a}", "lift the {j} to {a}"]
    lower_train = ["lower the {j} to {a}", "drop the {j} to {a}"]
    raise_held = ["tilt the {j} up to {a}"]
    open_train = ["open the gripper", "open the claw", "release the object", "let go", "open the hand",
                  "drop it"]
    open_held = ["unclench the gripper", "release your grip"]
    close_train = ["close the gripper", "close the claw", "grab it", "grip the object", "grasp it",
                   "shut the gripper"]
    close_held = ["clamp down", "take hold of it"]
    stop_train = ["stop", "halt", "freeze", "stop the arm"]
    stop_held = ["hold still"]
    wait_train = ["wait {s}", "pause for {s}", "wait for {s}"]
    wait_held = ["hold on for {s}"]

    def joint_angle(rng, positive=None):
        j = rng.choice(list(JOINTS))
        lo, hi = JOINTS[j]
        choices = [a for a in range(lo, hi + 1, 5) if a != 0 and (positive is None or (a > 0) == positive)]
        a = rng.choice(choices)
        if a < 0:
            text = rng.choice([f"{a} degrees", f"minus {-a} degrees", f"negative {-a} degrees"])
        else:
            text = rng.choice([f"{say(a, rng)} degrees", f"{a} degrees", f"{a}°"])
        return j, a, text

    def servo(pats, positive=None):
        def f(rng):
            j, a, text = joint_angle(rng, positive)
            return rng.choice(pats).format(j=j, a=text), [{"action": "servo", "joint": j, "angle_deg": a}]
        return f

    def grip(pats, state):
        return lambda rng: (rng.choice(pats), [{"action": "grip", "state": state}])

    def centre(rng):
        j = rng.choice(list(JOINTS))
        return rng.choice([f"center the {j}", f"centre the {j}", f"{j} to zero"]), \
            [{"action": "servo", "joint": j, "angle_deg": 0}]

    train = [servo(set_train), servo(raise_train, True), servo(lower_train, False), grip(open_train, "open"),
             grip(close_train, "close"), stop(stop_train), wait(wait_train), centre]
    held = [servo(set_held), servo(raise_held, True), grip(open_held, "open"), grip(close_held, "close"),
            stop(stop_held), wait(wait_held)]
    return train, held


# ---------------------------------------------------------------- both

JOINERS = [", then ", " and then ", ", then ", " and ", "; "]


def sample(rng, templates, max_steps=3):
    """One command: one to `max_steps` steps from `templates`, joined."""
    n = rng.choices([1, 2, 3][:max_steps], weights=[6, 3, 1][:max_steps])[0]
    texts, plan = [], []
    for _ in range(n):
        t, actions = rng.choice(templates)(rng)
        while n > 1 and actions[0]["action"] == "stop":
            t, actions = rng.choice(templates)(rng)  # "stop" is a command of its own
        texts.append(t)
        plan.extend(actions)
    text = texts[0]
    for t in texts[1:]:
        text += rng.choice(JOINERS) + t
    return text, plan


def generate(skill):
    train_t, held_t = {"rover": rover_templates, "arm": arm_templates}[skill]()
    rng = random.Random(f"{SEED}-{skill}")
    train, seen = [], set()
    while len(train) < N_TRAIN:
        text, plan = sample(rng, train_t)
        if text not in seen:
            seen.add(text)
            train.append({"command": text, "plan": plan})
    held = []
    while len(held) < N_HELDOUT:
        # Half from phrasings never trained on (mixed with trained ones in multi-step
        # commands), half new commands from trained phrasings.
        pool = held_t if len(held) % 2 == 0 else train_t
        text, plan = sample(rng, pool, max_steps=2)
        if text not in seen:
            seen.add(text)
            held.append({"command": text, "plan": plan})
    return train, held


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def main():
    skill, out = sys.argv[1], Path(sys.argv[2])
    train, held = generate(skill)
    write(out / "examples.jsonl", train)
    write(out / "heldout.jsonl", held)
    print(f"{skill}: {len(train)} training examples, {len(held)} held-out -> {out}")


if __name__ == "__main__":
    main()
