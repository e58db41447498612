#!/usr/bin/env python3
"""Seeded example generators for the shipped skills.

    python3 skills/train/gen_examples.py rover skills/rover
    python3 skills/train/gen_examples.py arm skills/arm

writes `examples.jsonl` (what the adapter is trained on) and `heldout.jsonl` (what its
accuracy is measured on) into the skill folder. Each line is
`{"command": "...", "plan": [...]}` with the plan in the action vocabulary of
docs/DESIGN.md. The same seed gives the same files.

The shipped rover's `examples.jsonl` (and its adapter) are from this generator as of commit
55eaa01: the rover data this version makes (the orderings in words, longer compositions,
more idioms below) trained an adapter that was worse on every hand-written set, so the
rover was not retrained (BENCHMARKS.md, "Understanding everyday commands", 2026-11-28).
The arm's files are this version's.

What it covers, from lexicons rather than a few sentence shapes:
- every way of asking for an action we could list (verbs, idioms, default amounts such as
  "hang a left" = 90 degrees), with politeness, fillers, speech-to-text casing and
  punctuation;
- quantities in every unit (mm to yards, ms to minutes), digits, number words,
  fractions and mixed numbers; the runtime's normalizer (`runtime/src/normalize.rs`)
  rewrites them before the model sees them, and `train.py` trains on that rewritten text;
- compositions of one to six steps with the joiners people use, routines whose steps come
  back ("open, wait, close, wait, open"), orderings in words ("after X, Y", "Y, but first X",
  "before Y, X"), a grip held for a while and undone;
- commands the skill cannot do (chit-chat, the other skill's actions, impossible things,
  moving the arm's hand by a distance or a joint by "10 more degrees"),
  planned as `[]`: the robot must not move.

Held-out split by template family: a command's template is its text with numbers, number
words, units, joint and output names masked (`template` below, mirrored in Rust by
`trinity_runtime::skills::eval::template`, whose test enforces it). Every phrase family is
assigned to training or held-out by its hash, so no held-out command shares a template with
a training example. Training examples whose template appears in a hand-written set
(`wild.jsonl`, `blind.jsonl`, `fresh.jsonl`, `unseen.jsonl`) are dropped: those sets are never
trained on, not even by a coincidence of wording.
"""

import hashlib
import json
import random
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = 20261127
N_TRAIN = 2400
N_HELDOUT = 160

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n, rng):
    """A whole number 0..999 in words, in the styles people use."""
    if n < 20:
        return ONES[n]
    if n < 100:
        t, u = divmod(n, 10)
        return TENS[t] if u == 0 else TENS[t] + rng.choice(["-", " "]) + ONES[u]
    h, r = divmod(n, 100)
    head = rng.choice(["a hundred", "one hundred"]) if h == 1 else ONES[h] + " hundred"
    if r == 0:
        return head
    return head + rng.choice([" and ", " "]) + words(r, rng)


def rnd(x):
    """Three decimals, half away from zero (as the normalizer formats numbers)."""
    v = float(Decimal(repr(x)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))
    return int(v) if v == int(v) else v


def num_text(x, rng, word_p=0.35):
    """A number as someone might say it: digits, words, fractions."""
    if x == int(x):
        x = int(x)
        if 0 <= x < 1000 and rng.random() < word_p:
            return words(x, rng)
        return str(x)
    whole, frac = int(x), round(x - int(x), 3)
    fw = {0.5: ["and a half", "and one half", "1/2"], 0.25: ["and a quarter", "1/4"],
          0.75: ["and three quarters", "3/4"]}
    if frac in fw and rng.random() < word_p:
        f = rng.choice(fw[frac])
        if whole == 0:
            return {0.5: rng.choice(["a half", "1/2", "one half"]), 0.25: rng.choice(["a quarter", "1/4"]),
                    0.75: rng.choice(["three quarters", "3/4"])}[frac]
        w = words(whole, rng) if rng.random() < 0.5 else str(whole)
        return f"{w} {f}"
    return str(x)


# ---------------------------------------------------------------- quantities

LENGTH_UNITS = {
    "m": (1.0, ["m", " m", " meters", " metres", " meter", " metre", " mtrs"]),
    "cm": (0.01, ["cm", " cm", " centimeters", " centimetres", " cms"]),
    "mm": (0.001, ["mm", " mm", " millimeters", " millimetres"]),
    "in": (0.0254, [" inches", " inch", " in", '"']),
    "ft": (0.3048, [" feet", " foot", " ft", "'"]),
    "yd": (0.9144, [" yards", " yard", " yd", " yds"]),
}


def distance(rng, max_m=5.0):
    """(phrase, metres) for a distance within `max_m`."""
    u = rng.choices(list(LENGTH_UNITS), weights=[5, 3, 1, 2, 3, 1])[0]
    k, spellings = LENGTH_UNITS[u]
    # Special phrases first
    r = rng.random()
    if r < 0.08:
        return rng.choice([("half a meter", 0.5), ("half a metre", 0.5), ("a meter", 1), ("a metre", 1),
                           ("a quarter of a meter", 0.25), ("a meter and a half", 1.5), ("a foot", 0.3048),
                           ("a yard", 0.9144), ("an inch", 0.0254), ("half a foot", 0.1524),
                           ("a foot and a half", 0.4572), ("three quarters of a meter", 0.75),
                           ("3/4 of a metre", 0.75), ("half a yard", 0.4572)])
    if u == "m":
        v = rng.choice([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1, 1.2, 1.25, 1.5, 1.8, 2, 2.5, 3, 3.5,
                        4, 4.5, 5, 1.1, 2.2, 0.35, 0.15, 0.05, 1.75, 2.75, 3.25, 4.2])
    elif u == "cm":
        v = rng.choice([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 75, 80, 90, 100, 120, 125, 150, 175, 200, 250,
                        300, 12, 8, 3, 65, 85, 400, 450])
    elif u == "mm":
        v = rng.choice([5, 10, 20, 50, 100, 150, 200, 250, 300, 350, 400, 500, 600, 750, 800, 900, 1000, 1200, 1500,
                        2000, 2500, 25, 75])
    elif u == "in":
        v = rng.choice([1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 18, 20, 24, 30, 36, 40, 48, 60, 0.5, 1.5, 2.5, 7, 11])
    elif u == "ft":
        v = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 0.5, 1.5, 2.5, 3.5, 4.5])
    else:
        v = rng.choice([1, 2, 3, 4, 5, 0.5, 1.5, 2.5])
    m = v * k
    if m > max_m:
        return distance(rng, max_m)
    unit = rng.choice(spellings)
    if v == 1 and unit in (" meters", " metres", " inches", " feet", " yards", " centimeters", " centimetres"):
        unit = {" meters": " meter", " metres": " metre", " inches": " inch", " feet": " foot", " yards": " yard",
                " centimeters": " centimeter", " centimetres": " centimetre"}[unit]
    text = num_text(v, rng) if not unit[0].isalpha() and unit not in ('"', "'") else str(v if v != int(v) else int(v))
    if unit in ('"', "'") and v != int(v):
        unit = " feet" if unit == "'" else " inches"
    return f"{text}{unit}", m


def angle(rng, lo=5, hi=360):
    """(phrase, degrees)."""
    a = rng.choice([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 75, 80, 90, 90, 90, 100, 110, 120, 135, 145, 150,
                    160, 170, 180, 180, 200, 210, 225, 240, 270, 300, 315, 330, 360, 12, 22.5, 7.5, 65, 55])
    if a < lo or a > hi:
        return angle(rng, lo, hi)
    unit = rng.choice([" degrees", " degrees", " degree" if a == 1 else " degrees", "°", " deg", " degs", "", ""])
    return f"{num_text(a, rng)}{unit}", a


def seconds(rng):
    """(phrase, seconds) for a wait of at most a minute (the board's limit)."""
    text, s = _seconds(rng)
    return (text, s) if s <= 60 else seconds(rng)


def _seconds(rng):
    r = rng.random()
    if r < 0.12:
        return rng.choice([("half a second", 0.5), ("a second", 1), ("a sec", 1), ("a minute", 60),
                           ("half a minute", 30), ("a minute and a half", 90), ("a quarter of a minute", 15),
                           ("one minute", 60), ("a couple of seconds", 2)])
    if r < 0.2:
        ms = rng.choice([100, 200, 250, 300, 500, 750, 800, 1000, 1500, 2000, 2500])
        return f"{ms}{rng.choice([' ms', 'ms', ' milliseconds', ' millisecond'])}", ms / 1000
    if r < 0.3:
        mins = rng.choice([0.5, 1, 1.5, 0.25, 0.75])
        return f"{num_text(mins, rng)} {rng.choice(['minutes', 'min', 'mins'])}", mins * 60
    s = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 45, 60, 0.5, 1.5, 2.5, 3.5, 0.2, 0.25, 0.75, 9])
    unit = rng.choice([" seconds", " seconds", " secs", " sec", "s", " s", " second" if s == 1 else " seconds"])
    if s == 1 and unit in (" seconds", " secs"):
        unit = " second"
    text = str(s) if unit in ("s", " s") else num_text(s, rng)
    return f"{text}{unit}", s


# ---------------------------------------------------------------- phrasing

POLITE_PRE = ["please ", "please, ", "could you ", "can you ", "would you ", "would you please ", "hey robot, ",
              "robot, ", "ok, ", "okay so ", "okay, ", "um ", "uh, ", "alright, ", "now ", "go ahead and ",
              "i need you to ", "i want you to ", "let's ", "right, ", "so ", "hey, ", "kindly ", "could you please ",
              "hey buddy, ", "yo, ", "listen, ", "ok robot, ", "now then, ", "i'd like you to "]
POLITE_POST = [" please", ", please", " thanks", ", thank you", " for me", " now", " right now", " if you can",
               " thx", " please and thank you", ", ok", " asap", " quickly", " real quick", ", would you"]
JOINERS = [", then ", " and then ", " then ", ". then ", "; ", ", ", " and ", ", after that ", ", and after that ",
           ". after that, ", " and after that ", ", next ", ". next, ", " followed by ", ", and then ", " & then ",
           ". ", ", afterwards "]
FINAL = [", and finally ", " and finally ", ", finally ", ". finally, ", ", and lastly "]


GERUNDS = {"drive": "driving", "go": "going", "move": "moving", "turn": "turning", "back": "backing",
           "reverse": "reversing", "rotate": "rotating", "spin": "spinning", "stop": "stopping", "wait": "waiting",
           "pause": "pausing", "switch": "switching", "set": "setting", "open": "opening", "close": "closing",
           "raise": "raising", "lower": "lowering", "put": "putting", "lift": "lifting", "bring": "bringing",
           "grab": "grabbing", "release": "releasing", "honk": "honking", "make": "making", "do": "doing",
           "take": "taking", "hang": "hanging", "roll": "rolling", "head": "heading", "pivot": "pivoting",
           "swing": "swinging", "hold": "holding", "sound": "sounding", "flip": "flipping", "kill": "killing",
           "creep": "creeping", "advance": "advancing", "retreat": "retreating", "center": "centering",
           "centre": "centring", "straighten": "straightening", "tilt": "tilting", "bend": "bending"}
GERUND_WRAP = ["would you mind {g}", "how about {g}", "try {g}", "maybe try {g}", "could you try {g}",
               "i'd appreciate you {g}", "start by {g}", "can you start {g}"]


def dress(text, rng):
    """Speech-to-text and typing habits: politeness, casing, punctuation."""
    first, _, rest = text.partition(" ")
    if first in GERUNDS and rng.random() < 0.06:
        text = rng.choice(GERUND_WRAP).format(g=(GERUNDS[first] + " " + rest).strip())
        if text.startswith(("would", "how", "could", "can")) and rng.random() < 0.6:
            text += "?"
    elif rng.random() < 0.25:
        text = rng.choice(POLITE_PRE) + text
    if rng.random() < 0.15:
        text = text + rng.choice(POLITE_POST)
    r = rng.random()
    if r < 0.3:
        text = text[0].upper() + text[1:]
    elif r < 0.35:
        text = text.upper()
    elif r < 0.4:
        text = text.title()
    r = rng.random()
    if r < 0.25:
        text += "."
    elif r < 0.3:
        text += "!"
    elif r < 0.32:
        text += "?"
    return text


# ---------------------------------------------------------------- templates
#
# A family is (name, function rng -> (text, plan)). Families are split between training and
# held-out by hash; within a family, the phrase list is shared.

def hash_pick(key, n):
    """Keep one key in `n`, chosen by hash (stable across runs)."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n == 0


def fam(name, pats, make):
    """A family from phrase patterns and a function pattern, rng -> (text, plan)."""
    return [(f"{name}:{p}", (lambda p: (lambda rng: make(p, rng)))(p)) for p in pats]


def stop_families(extra=()):
    pats = ["stop", "halt", "freeze", "stop now", "stop moving", "stop right there", "stop right now", "hold it",
            "whoa", "whoa whoa", "hit the brakes", "brake", "quit moving", "cut it out", "that's enough",
            "enough", "hold up", "stop it", "don't move", "stay still", "stop everything", "cease motion",
            "all stop", "emergency stop", "stop what you're doing", "abort", "cancel that and stop",
            "hold still", "stand still", "come to a stop", "full stop", "pull up", "kill the motors",
            "stop stop stop", "wait stop", "no, stop", "knock it off", "quit it", "cool it", "stand down",
            "that'll do", "hold your horses", "kill it", "pack it in", "easy, stop", "nope, stop", "cease",
            "shut it down", "stop the motors", "stop all motion", "put the brakes on", "halt everything",
            "okay that's enough", "stop there", "hold on, stop", "red light", "hold fire"] + list(extra)
    suffix = ["", "", "", " now", " immediately", " right now", " at once", " please", " this instant", " already"]
    return fam("stop", pats, lambda p, rng: (p + rng.choice(suffix), [{"action": "stop"}]))


def wait_families():
    pats = ["wait {s}", "wait for {s}", "pause {s}", "pause for {s}", "hold on for {s}", "hang on for {s}",
            "sit tight for {s}", "stay put for {s}", "hold for {s}", "hold position for {s}", "don't move for {s}",
            "take a break for {s}", "give it {s}", "chill for {s}", "rest for {s}", "sleep {s}", "delay {s}",
            "wait {s} there", "stay still for {s}", "idle for {s}", "hold still for {s}", "stand by for {s}",
            "take {s}", "sit for {s}", "stay there {s}",
            "linger for {s}"]

    def make(p, rng):
        t, s = seconds(rng)
        return p.format(s=t), [{"action": "wait", "seconds": rnd(s)}]
    return fam("wait", pats, make)


# ---------------------------------------------------------------- rover

def rover_families():
    fwd = ["drive forward {d}", "go forward {d}", "move forward {d}", "move ahead {d}", "drive {d}", "go {d}",
           "roll forward {d}", "go {d} forward", "drive {d} forward", "advance {d}", "head forward {d}",
           "go straight {d}", "go straight for {d}", "drive straight ahead {d}", "move {d} ahead",
           "forward {d}", "creep forward {d}", "inch forward {d}", "scoot forward {d}", "roll ahead {d}",
           "push forward {d}", "proceed {d}", "proceed forward {d}", "travel {d}", "travel forward {d}",
           "cruise forward {d}", "zoom ahead {d}", "move up {d}", "come forward {d}", "drive ahead {d}",
           "go ahead {d}", "step forward {d}", "nudge forward {d}", "drive {d} straight", "walk forward {d}",
           "move {d}", "go forwards {d}", "roll {d}", "go on {d}", "keep going {d}", "continue forward {d}",
           "drive straight for {d}", "move forwards {d}", "head straight {d}", "advance by {d}",
           "move forward by {d}", "drive forward for {d}", "go {d} straight ahead", "scoot up {d}",
           "roll {d} forward", "take it forward {d}", "bring it forward {d}", "forward by {d}",
           "scoot ahead {d}", "scooch forward {d}", "scooch up {d}", "edge forward {d}", "edge up {d}",
           "shuffle forward {d}", "pull forward {d}", "pull up {d}", "move on up {d}", "nose forward {d}"]
    back = ["drive backward {d}", "drive backwards {d}", "back up {d}", "reverse {d}", "move back {d}",
            "go backwards {d}", "go back {d}", "move backward {d}", "back off {d}", "retreat {d}",
            "roll back {d}", "reverse by {d}", "back {d}", "backward {d}", "backwards {d}", "go {d} backward",
            "go {d} back", "drive {d} backwards", "move {d} back", "back it up {d}", "back away {d}",
            "reverse {d} please", "pull back {d}", "scoot back {d}", "creep backward {d}", "inch back {d}",
            "step back {d}", "come back {d}", "drive in reverse {d}", "go in reverse for {d}",
            "reverse for {d}", "back up by {d}", "move backwards {d}", "roll backwards {d}", "withdraw {d}",
            "reverse the robot {d}", "head back {d}", "travel backward {d}", "nudge back {d}", "back up about {d}",
            "edge back {d}", "scooch back {d}", "shuffle back {d}", "ease back {d}", "back it out {d}"]
    left = ["turn left {a}", "turn {a} left", "turn {a} to the left", "rotate left {a}", "rotate {a} left",
            "rotate {a} to the left", "spin left {a}", "spin {a} left", "pivot left {a}", "pivot {a} left",
            "veer left {a}", "swing left {a}", "turn to the left {a}", "go left {a}", "left {a}", "left turn {a}",
            "make a {a} left turn", "do a {a} left turn", "turn left by {a}", "rotate left by {a}",
            "turn {a} to your left", "rotate {a} counterclockwise", "turn counterclockwise {a}",
            "rotate counter-clockwise {a}", "turn anticlockwise {a}", "spin anti-clockwise {a}",
            "turn {a} counter clockwise", "rotate ccw {a}", "turn {a} ccw", "yaw left {a}", "steer left {a}",
            "bank left {a}", "face left {a}", "twist left {a}", "turn leftwards {a}", "rotate to the left by {a}",
            "turn yourself left {a}", "rotate anticlockwise by {a}", "turn left through {a}"]
    right = [p.replace("counterclockwise", "clockwise").replace("counter-clockwise", "clockwise")
             .replace("anticlockwise", "clockwise").replace("anti-clockwise", "clockwise")
             .replace("counter clockwise", "clockwise").replace("ccw", "cw").replace("left", "right")
             for p in left]
    # Turns with no amount, and idioms with a default amount.
    left_default = ["turn left", "go left", "hang a left", "take a left", "make a left", "make a left turn",
                    "hook a left", "swing left", "rotate left", "face left", "turn to the left", "turn to your left",
                    "pivot left", "left turn", "do a left turn", "hang left", "spin left", "quarter turn left",
                    "make a quarter turn to the left", "a quarter turn to the left", "turn a quarter left",
                    "rotate a quarter turn counterclockwise", "turn counterclockwise", "rotate anticlockwise",
                    "hang a louie", "bang a left", "turn 90 left", "left face"]
    right_default = ["turn right", "go right", "hang a right", "take a right", "make a right", "make a right turn",
                     "hook a right", "swing right", "rotate right", "face right", "turn to the right",
                     "turn to your right", "pivot right", "right turn", "do a right turn", "hang right",
                     "spin right", "quarter turn right", "make a quarter turn to the right",
                     "a quarter turn to the right", "turn a quarter right", "rotate a quarter turn clockwise",
                     "turn clockwise", "rotate clockwise", "hang a ralph", "bang a right", "turn 90 right",
                     "right face"]
    around = ["turn around", "do a 180", "about face", "about-face", "make a u-turn", "do a u-turn", "u-turn",
              "flip around", "turn back around", "face the other way", "face backwards", "turn to face behind you",
              "spin around 180", "do a one-eighty", "one eighty", "pull a 180", "half turn", "do a half turn",
              "turn half a turn", "make a half turn", "rotate half a turn", "turn round", "spin round",
              "turn yourself around", "reverse direction", "turn the other way", "pull a u-turn", "pull a uey",
              "hang a u-turn", "bust a u-turn", "turn 180", "spin 180", "rotate 180", "face the opposite way",
              "face the opposite direction", "turn to face the other way", "reverse your heading", "do a uey",
              "whip around", "swing around", "double back"]
    full = ["do a full circle", "spin in a full circle", "do a 360", "spin 360", "do a full turn",
            "make a full rotation", "rotate one full turn", "spin all the way around", "do a complete circle",
            "do a full spin", "turn a full circle", "pirouette", "do a three-sixty", "spin a full turn",
            "go all the way around once", "do a full 360", "spin a complete circle", "go round in a full circle",
            "rotate a full 360 degrees", "spin once around", "make one full revolution"]
    outputs = {
        ("lights", True): ["turn on the lights", "turn the lights on", "switch on the lights", "switch the lights on",
                           "lights on", "light on", "lights, on", "put the lights on", "enable the lights",
                           "flip the lights on", "power on the lights", "activate the lights", "headlights on",
                           "turn on your lights", "turn your lights on", "put your lights on", "light up",
                           "switch the light on", "turn the light on", "illuminate", "give me some light",
                           "get the lights", "lamps on", "turn on the lamp", "make it bright", "start the lights",
                           "turn them on", "turn them back on", "lights back on", "switch them on again"],
        ("lights", False): ["turn off the lights", "turn the lights off", "switch off the lights",
                            "switch the lights off", "lights off", "light off", "kill the lights", "cut the lights",
                            "shut off the lights", "shut the lights off", "disable the lights", "douse the lights",
                            "lights out", "power off the lights", "deactivate the lights", "headlights off",
                            "turn your lights off", "turn off your lights", "switch the light off",
                            "turn the light off", "no more lights", "lamps off", "turn off the lamp", "go dark",
                            "darken", "kill your lights", "turn them off", "switch them off", "turn them back off",
                            "switch them off again", "lights back off"],
        ("horn", True): ["honk", "honk the horn", "beep", "beep the horn", "sound the horn", "toot the horn",
                         "turn on the horn", "turn the horn on", "horn on", "switch on the horn", "blow the horn",
                         "hit the horn", "give a honk", "give it a beep", "honk honk", "activate the horn",
                         "start the horn", "make some noise", "sound the alarm", "blast the horn", "toot toot",
                         "beep beep", "use the horn", "horn please", "honk again", "beep again", "honk once more",
                         "give another honk", "turn the horn back on"],
        ("horn", False): ["turn off the horn", "turn the horn off", "horn off", "stop honking", "stop the horn",
                          "silence the horn", "switch off the horn", "kill the horn", "cut the horn",
                          "stop beeping", "quiet the horn", "mute the horn", "no more honking", "shut the horn off",
                          "disable the horn", "enough honking", "stop the beeping", "deactivate the horn",
                          "horn, off", "shut up the horn", "horn back off", "stop that honking"],
    }
    honk_for = ["honk for {s}", "sound the horn for {s}", "beep for {s}", "turn on the horn for {s}",
                "blow the horn for {s}", "hold the horn for {s}", "honk the horn for {s}"]
    lights_for = ["turn on the lights for {s}", "flash the lights for {s}", "lights on for {s}",
                  "switch the lights on for {s}", "light up for {s}"]

    def drive(sign):
        def make(p, rng):
            t, m = distance(rng)
            return p.format(d=t), [{"action": "drive", "distance_m": rnd(sign * m)}]
        return make

    def turn(sign):
        def make(p, rng):
            t, a = angle(rng, hi=360)
            return p.format(a=t), [{"action": "turn", "angle_deg": rnd(sign * a)}]
        return make

    def const(plan):
        return lambda p, rng: (p, plan)

    def output(name, on):
        return lambda p, rng: (p, [{"action": "output", "name": name, "on": on}])

    def output_for(name):
        def make(p, rng):
            t, s = seconds(rng)
            return p.format(s=t), [{"action": "output", "name": name, "on": True},
                                   {"action": "wait", "seconds": rnd(s)},
                                   {"action": "output", "name": name, "on": False}]
        return make

    fams = (fam("fwd", fwd, drive(1)) + fam("back", back, drive(-1)) + fam("left", left, turn(1))
            + fam("right", right, turn(-1))
            + fam("left0", left_default, const([{"action": "turn", "angle_deg": 90}]))
            + fam("right0", right_default, const([{"action": "turn", "angle_deg": -90}]))
            + fam("around", around, const([{"action": "turn", "angle_deg": 180}]))
            + fam("full", full, const([{"action": "turn", "angle_deg": 360}]))
            + stop_families() + wait_families()
            + fam("honkfor", honk_for, output_for("horn")) + fam("lightsfor", lights_for, output_for("lights")))
    for (name, on), pats in outputs.items():
        fams += fam(f"out-{name}-{on}", pats, output(name, on))
    weights = {"fwd": 6, "back": 5, "left": 5, "right": 5, "left0": 1.5, "right0": 1.5, "around": 2.5, "full": 1.2,
               "stop": 5, "wait": 3, "honkfor": 0.5, "lightsfor": 0.5}
    return fams, weights, ROVER_NOTHING


# Things no skill here can do: "nothing to do" for either skill.
IMPOSSIBLE = [
    "make me a sandwich", "make me a coffee", "what's the weather like", "tell me a joke", "sing a song",
    "how are you", "what time is it", "who are you", "what is your name", "climb the stairs", "open the door",
    "charge yourself", "take a picture", "call mom", "play some music", "dance for me", "order a pizza",
    "do my homework", "feed the cat", "water the plants", "what can you do", "are you there", "good morning",
    "never mind", "do nothing", "good job", "ignore that", "what is 2 plus 2", "read me the news", "set an alarm",
    "turn on the tv",
]


ROVER_NOTHING = [
    # the arm's actions (named by what only the arm has: no amounts a rover could read as its own)
    "open the gripper", "close the gripper", "grab the cup", "pick up the ball", "let go of it", "grip the object",
    "wave your arm", "release the claw", "open the claw", "raise your arm", "bend your elbow", "pick that up",
] + IMPOSSIBLE + [
    "turn off the oven", "vacuum the floor", "clean the room", "find my keys", "bring me a beer", "fetch the ball",
    "print a report", "send an email", "lock the door", "shut down the computer", "translate this", "blah blah",
    "the quick brown fox", "i like turtles", "how far is the moon", "is it going to rain", "open the window",
    "turn on the fan", "paint the wall", "cook dinner", "wash the dishes", "fold the laundry",
]


# ---------------------------------------------------------------- arm

JOINTS = {"base": (-90, 90), "shoulder": (-80, 80), "elbow": (-120, 120), "wrist": (-90, 90)}
JOINT_NAMES = {"base": ["base", "base joint", "base servo", "turntable"],
               "shoulder": ["shoulder", "shoulder joint", "shoulder servo"],
               "elbow": ["elbow", "elbow joint", "elbow servo"],
               "wrist": ["wrist", "wrist joint", "wrist servo"]}


def arm_families():
    set_pats = ["set the {j} to {a}", "move the {j} to {a}", "put the {j} at {a}", "{j} to {a}",
                "rotate the {j} to {a}", "bring the {j} to {a}", "position the {j} at {a}", "angle the {j} to {a}",
                "turn the {j} to {a}", "swing the {j} to {a}", "point the {j} to {a}", "set {j} to {a}",
                "move {j} to {a}", "{j} {a}", "{j} at {a}", "{j}: {a}", "go to {a} on the {j}",
                "{a} on the {j}", "put the {j} to {a}", "adjust the {j} to {a}", "send the {j} to {a}",
                "take the {j} to {a}", "make the {j} {a}", "the {j} to {a}", "set the {j} angle to {a}",
                "change the {j} to {a}", "pivot the {j} to {a}", "twist the {j} to {a}", "tilt the {j} to {a}",
                "bend the {j} to {a}", "rotate {j} to {a}", "drive the {j} to {a}", "servo the {j} to {a}",
                "command the {j} to {a}", "{j} should be at {a}", "place the {j} at {a}", "align the {j} to {a}",
                "put {j} at {a}", "move the {j} joint to {a}", "set the {j} position to {a}",
                "get the {j} to {a}", "can the {j} go to {a}", "{j} goes to {a}", "{j} angle {a}",
                "set the {j} at {a}", "move the {j} over to {a}", "rotate the {j} round to {a}"]
    up_pats = ["raise the {j} to {a}", "lift the {j} to {a}", "tilt the {j} up to {a}", "bring the {j} up to {a}",
               "raise {j} to {a}", "lift {j} to {a}", "move the {j} up to {a}", "swing the {j} up to {a}",
               "pitch the {j} up to {a}", "angle the {j} up to {a}"]
    down_pats = ["lower the {j} to {a}", "drop the {j} to {a}", "tilt the {j} down to {a}",
                 "bring the {j} down to {a}", "lower {j} to {a}", "move the {j} down to {a}",
                 "swing the {j} down to {a}", "dip the {j} to {a}"]
    side_pats = {1: ["turn the {j} left to {a}", "swing the {j} left to {a}", "rotate the {j} to the left to {a}",
                     "rotate the {j} counterclockwise to {a}", "turn the {j} anticlockwise to {a}",
                     "swing the {j} to {a} left", "rotate the {j} ccw to {a}"],
                 -1: ["turn the {j} right to {a}", "swing the {j} right to {a}", "rotate the {j} to the right to {a}",
                      "rotate the {j} clockwise to {a}", "turn the {j} clockwise to {a}",
                      "swing the {j} to {a} right", "rotate the {j} cw to {a}"]}
    centre_pats = ["center the {j}", "centre the {j}", "{j} to zero", "zero the {j}", "home the {j}",
                   "straighten the {j}", "reset the {j}", "{j} to center", "{j} to the middle",
                   "put the {j} in the middle", "return the {j} to center", "{j} to neutral", "neutral {j}",
                   "bring the {j} back to center", "level the {j}", "{j} straight", "set the {j} straight",
                   "{j} home", "send the {j} home", "put the {j} back to zero"]
    open_pats = ["open the gripper", "open the claw", "release the object", "let go", "open the hand", "drop it",
                 "unclench the gripper", "release your grip", "open up", "let it go", "let it drop", "release",
                 "release it", "open", "open your hand", "open the grip", "ungrip", "loosen the grip",
                 "relax the gripper", "spread the claw", "drop the object", "put it down", "let go of it",
                 "open the fingers", "unclamp", "free it", "drop that", "open wide", "gripper open", "claw open",
                 "open the jaws", "release the claw", "let loose", "unhand it", "set it free", "open your claw",
                 "let the thing go", "release the gripper", "gripper, open", "open it", "open it again", "open it back up",
                 "reopen it", "reopen the gripper", "let it loose", "spit it out", "unclamp it", "open right up",
                 "let go again", "relax your grip", "open the claw wide", "drop"]
    close_pats = ["close the gripper", "close the claw", "grab it", "grip the object", "grasp it", "shut the gripper",
                  "clamp down", "take hold of it", "grab", "grip", "close", "close your hand", "pinch", "squeeze",
                  "clench", "hold it tight", "grab the object", "grab that", "grasp the object", "clamp it",
                  "close the hand", "close the fingers", "get a grip", "catch it", "hold on to it",
                  "snatch it", "gripper close", "claw closed", "close the jaws", "grip it tight", "seize it",
                  "clamp the gripper", "close your claw", "pick it up", "grab hold", "gripper, close", "close it",
                  "close it again", "shut it", "grab it again", "bite down", "chomp down", "snap shut",
                  "clamp shut", "close tight", "nab it", "snag it", "get it", "take it", "close up"]

    def joint_angle(rng, positive=None, j=None):
        j = j or rng.choice(list(JOINTS))
        lo, hi = JOINTS[j]
        choices = [a for a in list(range(lo, hi + 1, 5)) + [12, 22.5, -22.5, 33, -17, 7, -8, 1, -1]
                   if lo <= a <= hi and a != 0 and (positive is None or (a > 0) == positive)]
        a = rng.choice(choices)
        t, _ = angle_text(abs(a), rng)
        if a < 0:
            t = rng.choice([f"-{t}" if t[0].isdigit() else f"minus {t}", f"minus {t}", f"negative {t}"])
        return j, a, t

    def angle_text(a, rng):
        unit = rng.choice([" degrees", " degrees", "°", " deg", " degs", ""])
        return f"{num_text(a, rng)}{unit}", a

    def jname(j, rng):
        return rng.choice(JOINT_NAMES[j]) if rng.random() < 0.3 else j

    def servo(positive=None):
        def make(p, rng):
            j, a, t = joint_angle(rng, positive)
            return p.format(j=jname(j, rng), a=t), [{"action": "servo", "joint": j, "angle_deg": rnd(a)}]
        return make

    def side(sign):
        def make(p, rng):
            j = "base"
            a = rng.choice([5, 10, 15, 20, 30, 40, 45, 60, 75, 80, 90])
            t, _ = angle_text(a, rng)
            return p.format(j=jname(j, rng), a=t), [{"action": "servo", "joint": j, "angle_deg": sign * a}]
        return make

    def centre(p, rng):
        j = rng.choice(list(JOINTS))
        return p.format(j=jname(j, rng)), [{"action": "servo", "joint": j, "angle_deg": 0}]

    def grip(state):
        return lambda p, rng: (p, [{"action": "grip", "state": state}])

    # Direction words carry the sign: the base turns left (+) or right (-), the other joints
    # go up (+) or down (-); the number is the magnitude of the absolute angle.
    side_words = {1: ["left", "to the left", "to your left", "counterclockwise", "counter-clockwise",
                      "counter clockwise", "anticlockwise", "anti-clockwise", "ccw", "leftward", "toward the left"],
                  -1: ["right", "to the right", "to your right", "clockwise", "cw", "rightward",
                       "toward the right"]}
    side_verbs = ["turn", "rotate", "swing", "point", "pivot", "move", "spin", "twist", "set", "put", "bring", "aim"]
    side_forms = ["{v} the {j} {a} {d}", "{v} the {j} to {a} {d}", "{v} the {j} {d} {a}", "{v} the {j} {d} to {a}",
                  "{v} {j} {a} {d}", "{v} {j} {d} to {a}"]
    bare_side = ["{j} {a} {d}", "{j} {d} {a}", "{j} to {a} {d}", "{j} {d} to {a}", "{j}: {a} {d}",
                 "{j} at {a} {d}", "{a} {d} on the {j}", "{j} {d}, {a}"]
    for sign, ws in side_words.items():
        for w in ws:
            side_pats[sign] += [f.format(v=v, j="{j}", a="{a}", d=w) for f in side_forms for v in side_verbs
                                if hash_pick(f"{f}|{v}|{w}", 4)]
            side_pats[sign] += [f.format(j="{j}", a="{a}", d=w) for f in bare_side]
    tilt_words = {1: ["up", "upward", "upwards", "above center", "above centre", "above level", "above horizontal",
                      "skyward"],
                  -1: ["down", "downward", "downwards", "below center", "below centre", "below level",
                       "below horizontal", "toward the floor"]}
    tilt_verbs = {1: ["raise", "lift", "tilt", "angle", "move", "put", "set", "bring", "point", "pitch", "swing"],
                  -1: ["lower", "drop", "tilt", "angle", "move", "put", "set", "bring", "point", "pitch", "dip"]}
    tilt_forms = ["{v} the {j} {a} {d}", "{v} the {j} to {a} {d}", "{v} the {j} {d} {a}", "{v} {j} {a} {d}",
                  "{j} {a} {d}", "{j} {d} {a}", "{j} to {a} {d}", "{j} {d}, {a}", "{j} at {a} {d}"]
    tilt_pats = {sign: [f.format(v=v, j="{j}", a="{a}", d=w) for f in tilt_forms for v in tilt_verbs[sign]
                        for w in ws if hash_pick(f"{f}|{v}|{w}", 6) or "{v}" not in f]
                 for sign, ws in tilt_words.items()}
    tilt_pats = {k: sorted(set(v)) for k, v in tilt_pats.items()}
    objects = ["the block", "the cup", "the ball", "the part", "the box", "the bottle", "the pen", "the thing",
               "the cube", "the tool", "the screw", "the can", "the object", "it", "that", "this"]
    close_obj = ["grip {o}", "grab {o}", "grasp {o}", "take {o}", "hold {o}", "clamp {o}", "pinch {o}",
                 "close on {o}", "close the gripper on {o}", "clamp down on {o}", "bite down on {o}",
                 "get hold of {o}", "seize {o}", "squeeze {o}", "latch onto {o}", "pick up {o}", "catch {o}",
                 "hang on to {o}", "snag {o}", "close around {o}"]
    open_obj = ["drop {o}", "release {o}", "let go of {o}", "put {o} down", "set {o} down", "let {o} go",
                "let {o} fall", "free {o}", "unclamp {o}", "open and drop {o}", "put down {o}", "leave {o}",
                "dump {o}", "ditch {o}", "let loose {o}"]

    def tilt(sign):
        def make(p, rng):
            j = rng.choice(["shoulder", "elbow", "wrist"])
            lo, hi = JOINTS[j]
            a = rng.choice([a for a in range(5, 125, 5) if sign * a >= lo and sign * a <= hi] + [12, 22.5, 33, 7])
            t, _ = angle_text(a, rng)
            return p.format(j=jname(j, rng), a=t), [{"action": "servo", "joint": j, "angle_deg": rnd(sign * a)}]
        return make

    def grip_obj(state):
        return lambda p, rng: (p.format(o=rng.choice(objects)), [{"action": "grip", "state": state}])

    # Holding a grip state for a while and then undoing it: three actions, the wait in the middle.
    hold_pats = {"close": ["close the gripper for {s} then open it", "keep the claw shut for {s}, then open it",
                           "grab it, hold for {s}, then let go", "squeeze for {s} and release",
                           "clamp down for {s} then open up", "hold it for {s} and then drop it",
                           "grip for {s}, then release", "close for {s} and open again",
                           "keep it closed {s} then open", "pinch for {s} then let go"],
                 "open": ["open the gripper for {s} then close it", "keep the claw open for {s}, then close it",
                          "open up, wait {s}, then grab", "release for {s} and grab again",
                          "leave it open {s} then close", "open for {s} and close again",
                          "hold the claw open for {s} then shut it", "stay open for {s}, then clamp"]}

    def hold(state):
        other = {"open": "close", "close": "open"}[state]

        def make(p, rng):
            t, s = seconds(rng)
            return p.format(s=t), [{"action": "grip", "state": state}, {"action": "wait", "seconds": rnd(s)},
                                   {"action": "grip", "state": other}]
        return make

    fams = (fam("set", set_pats, servo()) + fam("up", up_pats, servo(True)) + fam("down", down_pats, servo(False))
            + fam("side+", side_pats[1], side(1)) + fam("side-", side_pats[-1], side(-1))
            + fam("tilt+", tilt_pats[1], tilt(1)) + fam("tilt-", tilt_pats[-1], tilt(-1))
            + fam("openobj", open_obj, grip_obj("open")) + fam("closeobj", close_obj, grip_obj("close"))
            + fam("centre", centre_pats, centre) + fam("open", open_pats, grip("open"))
            + fam("close", close_pats, grip("close")) + stop_families(["stop the arm", "freeze the arm"])
            + fam("holdclose", hold_pats["close"], hold("close")) + fam("holdopen", hold_pats["open"], hold("open"))
            + wait_families())
    weights = {"set": 7, "up": 2, "down": 2, "side+": 3, "side-": 3, "tilt+": 2, "tilt-": 2, "centre": 2, "open": 3,
               "close": 3, "openobj": 1, "closeobj": 1, "stop": 5, "wait": 3.5, "holdclose": 0.6, "holdopen": 0.4}
    return fams, weights, ARM_NOTHING


def arm_cannot(rng):
    """What the arm cannot plan, made up from parts: moving the hand by a distance (it takes
    joint angles only) and joint moves relative to where a joint is now (it does not know)."""
    if rng.random() < 0.6:
        verb = rng.choice(["raise", "lift", "lower", "move", "push", "pull", "extend", "reach", "slide", "bring",
                           "drop", "shift", "nudge", "retract", "stretch", "poke", "put", "send", "carry", "hold"])
        obj = rng.choice(["the gripper", "the claw", "the arm", "the hand", "it", "the end effector", "the tool",
                          "your hand", "the tip", "the fingers", "the gripper head", "your arm"])
        way = rng.choice(["up", "down", "forward", "back", "backward", "to the left", "to the right", "out", "in",
                          "closer", "further out", "sideways", "over", "toward me", "away", "higher", "lower",
                          "left", "right", ""])
        d, _ = distance(rng, max_m=1.0)
        form = rng.choice(["{v} {o} {w} {d}", "{v} {o} {d} {w}", "{v} {o} by {d}", "{v} {o} {w} by {d}",
                           "{v} {w} {d}", "{v} {d} {w}", "{o} {w} {d}", "{v} {o} {d} {w} please",
                           "can you {v} {o} {d} {w}", "{v} {o} about {d} {w}"])
        return re.sub(" +", " ", form.format(v=verb, o=obj, w=way, d=d)).strip()
    j = rng.choice(["base", "shoulder", "elbow", "wrist"])
    a = num_text(rng.choice([5, 10, 15, 20, 25, 30, 45]), rng)
    way = rng.choice(["up", "down", "left", "right", "clockwise", "over", "in", "out"])
    form = rng.choice(["{v} the {j} {a} more degrees", "{v} the {j} another {a} degrees", "{v} the {j} {a} more",
                       "{v} the {j} by another {a}", "{v} the {j} a bit more", "{v} the {j} a little further {w}",
                       "{v} the {j} a bit further {w}", "{j} {a} more degrees {w}", "a little more {w} on the {j}",
                       "{v} the {j} {w} a bit", "{v} the {j} {w} a touch", "{v} the {j} {a} degrees further {w}",
                       "{v} the {j} {a} degrees more", "nudge the {j} {w} slightly", "a tad more {w}",
                       "{v} the {j} further", "keep {g} the {j}", "{v} the {j} {w} some more",
                       "{v} the {j} an extra {a} degrees", "{v} the {j} {a} degrees past where it is"])
    verb = rng.choice(["raise", "lower", "turn", "rotate", "bend", "move", "tilt", "swing", "lift", "twist"])
    g = {"raise": "raising", "lower": "lowering", "turn": "turning", "rotate": "rotating", "bend": "bending",
         "move": "moving", "tilt": "tilting", "swing": "swinging", "lift": "lifting", "twist": "twisting"}[verb]
    return form.format(v=verb, j=j, a=a, w=way, g=g)


ARM_NOTHING = [
    # the rover's actions
    "drive forward 2 meters", "go forward", "back up a meter", "reverse 50 cm", "turn left 90 degrees",
    "turn right", "turn around", "do a 360", "drive to the door", "go home", "turn on the lights",
    "switch off the lights", "honk", "beep the horn", "lights on", "move forward 3 feet", "spin around",
    "hang a left", "drive backwards", "roll ahead", "follow the line", "park", "go straight",
] + IMPOSSIBLE + [
    "vacuum the floor", "clean the room", "find my keys", "go to the kitchen", "follow me", "come here",
    "send an email", "lock the door", "translate this", "blah blah", "i like turtles", "how far is the moon",
    "how many degrees is a right angle", "is it going to rain", "open the window", "turn on the fan",
    "paint the wall", "cook dinner", "wash the dishes", "fold the laundry", "write a poem", "solve this puzzle",
    "wave hello", "shake my hand", "give me a hug", "throw the ball",
]


# ---------------------------------------------------------------- templates and the split

NUMBER_WORDS = set(ONES + TENS[2:] + ["hundred", "half", "quarter", "quarters", "third", "thirds", "point"])
UNITS = {"mm", "cm", "cms", "m", "mtrs", "meter", "meters", "metre", "metres", "millimeter", "millimeters",
         "millimetre", "millimetres", "centimeter", "centimeters", "centimetre", "centimetres", "in", "inch",
         "inches", "ft", "foot", "feet", "yd", "yds", "yard", "yards", "ms", "millisecond", "milliseconds", "s",
         "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "deg", "degs", "degree",
         "degrees", "°", "'", '"'}
NAMES = {"base", "shoulder", "elbow", "wrist", "lights", "horn"}


def template(command):
    """The command's template: lowercase words, numbers and number words as `#`, units as
    `<u>`, joint and output names as `<n>`, punctuation dropped. Mirrors
    `trinity_runtime::skills::eval::template`."""
    t = command.lower()
    t = re.sub(r"(\d)([a-z°'\"])", r"\1 \2", t)
    toks = re.findall(r"-?\d+(?:[.,/]\d+)*|[a-z]+(?:'[a-z]+)?|[°'\"]", t)
    out = []
    for w in toks:
        if w[0].isdigit() or (w[0] == "-" and len(w) > 1) or w in NUMBER_WORDS:
            w = "#"
        elif w in UNITS:
            w = "<u>"
        elif w in NAMES:
            w = "<n>"
        if w == "#" and out and out[-1] == "#":
            continue
        out.append(w)
    return " ".join(out)


def held_family(name):
    """About one phrase family in six is held out, chosen by hash (stable across runs)."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 6 == 0


def family_weights(fams, weights):
    """Each group's weight (default 1) spread over its phrase families."""
    group = [name.split(":")[0] for name, _ in fams]
    return [weights.get(g, 1.0) / group.count(g) for g in group]


def sample(rng, fams, weights, nothing, max_steps=6, others=(), cannot=None):
    """One command: one to `max_steps` steps, or one thing the skill cannot do (from the
    list, a command of the other skill's own actions, or made up by `cannot`)."""
    if rng.random() < 0.04:
        t = rng.choice(nothing)
        return [f"nothing:{t}"], dress(t, rng), []
    if others and rng.random() < 0.04:
        name, f = rng.choice(others)
        t, _ = f(rng)
        return [f"other:{name}"], dress(t, rng), []
    if cannot and rng.random() < 0.04:
        return ["cannot"], dress(cannot(rng), rng), []
    n = rng.choices([1, 2, 3, 4, 5, 6][:max_steps], weights=[9, 5, 3.2, 2, 1.2, 0.8][:max_steps])[0]
    wts = family_weights(fams, weights)
    texts, plan, used = [], [], []
    picked = []
    for k in range(n):
        # Sometimes a routine: steps that come back ("open, wait, close, wait, open"), each
        # of which must be planned, the last one too.
        if k >= 2 and len(picked) >= 2 and rng.random() < 0.35:
            name, f = picked[k - 2]
        else:
            name, f = rng.choices(fams, weights=wts)[0]
            while n > 1 and name.startswith("stop:") and k != n - 1:
                name, f = rng.choices(fams, weights=wts)[0]  # "stop" only ends a sequence
        picked.append((name, f))
        t, actions = f(rng)
        texts.append(t)
        plan.extend(actions)
        used.append(name)
    if len(plan) > 8:
        return sample(rng, fams, weights, nothing, max_steps, others, cannot)
    if n == 2 and rng.random() < 0.2:
        # Orderings in words: "after <first>, <second>", "<second> after you <first>", "before
        # <second>, <first>", "<first> before <second>": the plan keeps the time order.
        forms = [f"after you {texts[0]}, {texts[1]}", f"{texts[1]} after you {texts[0]}",
                 f"{texts[1]} once you {texts[0]}", f"{texts[1]}, but first {texts[0]}",
                 f"{texts[1]}, but {texts[0]} first"]
        first, _, rest = texts[0].partition(" ")
        if first in GERUNDS:
            g = f"{GERUNDS[first]} {rest}".strip()
            forms += [f"after {g}, {texts[1]}", f"{texts[1]} after {g}", f"once done {g}, {texts[1]}"] * 2
        second, _, rest = texts[1].partition(" ")
        if second in GERUNDS:
            g = f"{GERUNDS[second]} {rest}".strip()
            forms += [f"before {g}, {texts[0]}", f"{texts[0]} before {g}"] * 2
        return used, dress(rng.choice(forms), rng), plan
    text = texts[0]
    if len(texts) > 2 and rng.random() < 0.3:
        text = rng.choice(["first ", "first, ", "start by ", "to start, "]) + text
    for k, t in enumerate(texts[1:], start=1):
        last = k == len(texts) - 1
        text += (rng.choice(FINAL) if last and len(texts) > 2 and rng.random() < 0.4 else rng.choice(JOINERS)) + t
    return used, dress(text, rng), plan


# The canonical commands a skill must never get wrong. Their templates are trained on even
# where a hand-written set uses them; the hand-written commands that share one are moved to
# `<set>.shared.jsonl` (kept, but not part of the never-trained-on figure).
CORE = {
    "rover": ["stop", "halt", "freeze", "turn left", "turn right", "turn around", "turn left {a}", "turn right {a}",
              "drive forward {d}", "drive {d}", "go forward {d}", "back up {d}", "drive backward {d}", "wait {s}",
              "lights on", "lights off", "turn on the lights", "turn off the lights", "honk"],
    # The arm's canonical commands (none before: "wait 2 seconds" was never trained on, as the
    # hand-written sets hold such lines, and the arm refused every bare wait).
    "arm": ["stop", "halt", "freeze", "wait {s}", "open the gripper", "close the gripper", "let go", "grab it",
            "set the {j} to {a}", "{j} to {a}", "center the {j}"],
}


def core_templates(skill, fams):
    """Templates of the skill's core phrases, from many samples of their families."""
    rng = random.Random(1)
    wanted = {f"{name.split(':')[0]}:{p}" for name, _ in fams for p in CORE[skill] if name.endswith(":" + p)}
    out = set()
    for name, f in fams:
        if name in wanted:
            for _ in range(200):
                out.add(template(f(rng)[0]))
    return out


def generate(skill, forbidden):
    builders = {"rover": rover_families, "arm": arm_families}
    fams, weights, nothing = builders[skill]()
    # Made-up "nothing to do" commands: the arm's only. (The rover's, moves off the ground
    # such as "hop 50 cm", taught that adapter to refuse every drive; see BENCHMARKS.md.)
    cannot = {"arm": arm_cannot}.get(skill)
    # The other skill's own actions (not wait and stop, which both have) are "nothing to do".
    # The arm's direction and object lexicons (hundreds of families each) stay out: drawn
    # uniformly by family they would make most of the rover's "nothing" commands look like
    # its own turns ("rotate the base 45 degrees to the left"), and it refused its turns.
    other = [f for f in builders["arm" if skill == "rover" else "rover"]()[0]
             if not f[0].startswith(("wait:", "stop:", "side+:", "side-:", "tilt+:", "tilt-:", "openobj:",
                                     "closeobj:"))]
    forbidden = forbidden - core_templates(skill, fams)
    rng = random.Random(f"{SEED}-{skill}")
    train_f = [f for f in fams if not held_family(f[0])]
    held_f = [f for f in fams if held_family(f[0])]
    held_nothing = [t for t in nothing if held_family(f"nothing:{t}")]
    train_nothing = [t for t in nothing if not held_family(f"nothing:{t}")]
    train, seen, train_templates = [], set(), set()
    while len(train) < N_TRAIN:
        _, text, plan = sample(rng, train_f, weights, train_nothing,
                               others=[f for f in other if not held_family(f[0])], cannot=cannot)
        tpl = template(text)
        if text in seen or tpl in forbidden:
            continue
        seen.add(text)
        train_templates.add(tpl)
        train.append({"command": text, "plan": plan})
    held = []
    tries = 0
    while len(held) < N_HELDOUT and tries < 100000:
        tries += 1
        # Every step from a held-out family (commands mixing families would share parts of
        # their template with training, which the split forbids).
        _, text, plan = sample(rng, held_f, {k: 1 for k in weights}, held_nothing, max_steps=2,
                               others=[f for f in other if held_family(f[0])])
        tpl = template(text)
        if text in seen or tpl in train_templates:
            continue
        seen.add(text)
        held.append({"command": text, "plan": plan})
    return train, held


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def main():
    skill, out = sys.argv[1], Path(sys.argv[2])
    forbidden = set()
    for name in ("wild.jsonl", "blind.jsonl", "fresh.jsonl", "unseen.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl", "sealed4.jsonl", "sealed5.jsonl", "sealed6.jsonl", "sealed7.jsonl", "sealed8.jsonl", "sealed9.jsonl", "sealed10.jsonl", "sealed11.jsonl", "sealed12.jsonl", "sealed13.jsonl", "sealed14.jsonl", "sealed15.jsonl", "sealed16.jsonl", "sealed17.jsonl"):
        p = out / name
        if p.exists():
            forbidden |= {template(json.loads(l)["command"]) for l in p.read_text().splitlines() if l.strip()}
    train, held = generate(skill, forbidden)
    write(out / "examples.jsonl", train)
    write(out / "heldout.jsonl", held)
    # Hand-written commands that share a (core) training template leave the set.
    trained = {template(e["command"]) for e in train}
    for name in ("wild", "blind", "fresh", "unseen", "sealed", "sealed2", "sealed3", "sealed4", "sealed5", "sealed6", "sealed7", "sealed8", "sealed9", "sealed10", "sealed11", "sealed12", "sealed13", "sealed14", "sealed15", "sealed16", "sealed17"):
        p = out / f"{name}.jsonl"
        if not p.exists():
            continue
        lines = [l for l in p.read_text().splitlines() if l.strip()]
        keep = [l for l in lines if template(json.loads(l)["command"]) not in trained]
        moved = [l for l in lines if template(json.loads(l)["command"]) in trained]
        if moved:
            shared = out / f"{name}.shared.jsonl"
            old = shared.read_text().splitlines() if shared.exists() else []
            shared.write_text("\n".join(old + moved) + "\n")
            p.write_text("\n".join(keep) + "\n")
            print(f"{name}: {len(moved)} commands share a training template -> {shared.name}; {len(keep)} kept")
    print(f"{skill}: {len(train)} training examples, {len(held)} held-out -> {out}")


if __name__ == "__main__":
    main()
