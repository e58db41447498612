//! A command of several steps, cut into its steps in the order they are to happen.
//!
//! A 270M model plans one action well and loses count in a list: it drops the last of four
//! steps, doubles one, or keeps the word order of "turn left after driving 3 m". For a skill
//! with `[prompt] split = true`, [`clauses`] cuts a normalized command ([`crate::normalize`])
//! at its sequencing words (commas, "then", "and", "after that", "finally", "followed by"),
//! puts the steps that "before …,", "… after …" and "…, but first …" name in the order they
//! are to happen, and writes out a closing "…, four times". The engine plans each step on
//! its own and joins the plans ([`crate::engine::Job::parts`]); when any step is not a plan
//! of its own, the whole command is planned as one.
//!
//! It gives up (an empty list: plan the command whole) on what it cannot cut safely: a step
//! that refers back ("turn them off", "do that twice"), more steps than a plan holds, or a
//! command of one step. A bare quantity after a comma belongs to the step before it
//! ("Wait, 5 seconds."), and fillers alone between commas ("um", "please") are dropped.

/// Most steps a command is cut into: a plan holds at most 8 actions.
pub const MAX_CLAUSES: usize = 8;

/// Words that refer back to something said before: a step with one cannot be planned alone
/// ("turn them off", "rotate it back": which, is for the whole command to say).
const BACK_REFERENCES: &[&str] = &["it", "its", "them", "they", "their", "that", "those", "this", "these", "same"];

/// Words that are not a step on their own: fillers, interjections, hedges before a number.
/// (A step of one particle, "on and off", is no step either: see [`clauses`].)
const FILLERS: &[&str] = &[
    "um",
    "uh",
    "er",
    "erm",
    "hmm",
    "ah",
    "oh",
    "whoa",
    "hey",
    "oops",
    "there",
    "ok",
    "okay",
    "alright",
    "so",
    "well",
    "like",
    "please",
    "now",
    "thanks",
    "cheers",
    "about",
    "around",
    "roughly",
    "approximately",
    "maybe",
    "say",
    "exactly",
    "just",
];

/// Where a step goes relative to the ones said before it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// After them (the usual order).
    Next,
    /// Before all of them ("…, but first X", "… after X").
    First,
}

/// How many times a phrase says to do something: "twice", "3 times", "four times".
fn repetition(words: &[&str]) -> Option<usize> {
    let count = |w: &str| -> Option<usize> {
        let n = match w {
            "one" => 1,
            "two" => 2,
            "three" => 3,
            "four" => 4,
            "five" => 5,
            "six" => 6,
            "seven" => 7,
            "eight" => 8,
            _ => w.parse().ok()?,
        };
        (2..=MAX_CLAUSES).contains(&n).then_some(n)
    };
    match words {
        ["twice"] => Some(2),
        ["thrice"] => Some(3),
        [n, "times"] | [n, "times", "over"] | ["repeat", n, "times"] => count(n),
        _ => None,
    }
}

/// Whether the words go on the step before them: a quantity in the normalizer's form
/// (`0.5 m`, `2 seconds`), perhaps after a filler or hedge ("like 30 degrees"), and perhaps
/// with more words after it ("75 degrees from center", "30 degrees to the left").
fn continues(words: &[&str]) -> bool {
    let unit = |w: &str| matches!(w, "m" | "second" | "seconds" | "degrees");
    let mut rest = words.iter().skip_while(|w| FILLERS.contains(w));
    matches!((rest.next(), rest.next()), (Some(n), Some(u)) if n.parse::<f64>().is_ok() && unit(u))
}

/// End the step being read: fillers alone are no step, and a quantity first finishes the step
/// before it (a cut in the wrong place costs little: that step is planned as it was said).
fn close<'a>(steps: &mut Vec<(Place, Vec<&'a str>)>, cur: &mut Vec<&'a str>, place: &mut Place) {
    if cur.is_empty() || cur.iter().all(|w| FILLERS.contains(w)) {
        cur.clear();
        return;
    }
    if continues(cur) {
        if let Some((_, prev)) = steps.last_mut() {
            prev.append(cur);
            return;
        }
    }
    steps.push((*place, std::mem::take(cur)));
    *place = Place::Next;
}

/// The steps of a normalized command in the order they are to happen, each a command of
/// its own; empty when the command is one step or cannot be cut safely (see the module
/// documentation).
pub fn clauses(normalized: &str) -> Vec<String> {
    let spaced = normalized.replace(',', " , ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let at = |k: usize| tokens.get(k).copied();

    let mut steps: Vec<(Place, Vec<&str>)> = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut place = Place::Next;
    // "before X, Y": the step after X goes first.
    let mut opened_with_before = false;

    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        // Fillers before the first word ("okay, before you …") still open the command.
        let command_start = steps.is_empty() && cur.iter().all(|w| FILLERS.contains(w));
        // "after 2 seconds", "in 5 seconds": a wait this cut would lose; planned whole.
        if matches!(t, "after" | "in") && at(i + 1).is_some_and(|n| n.parse::<f64>().is_ok()) {
            return Vec::new();
        }
        let mut skip = 1;
        match t {
            "," | "then" | "and" | "finally" | "lastly" | "afterwards" | "afterward" => {
                close(&mut steps, &mut cur, &mut place);
                if opened_with_before && steps.len() == 1 {
                    place = Place::First;
                    opened_with_before = false;
                }
            }
            "after" | "followed" if matches!(at(i + 1), Some("that" | "this" | "which" | "by")) => {
                close(&mut steps, &mut cur, &mut place);
                skip = 2;
            }
            "before" if command_start => opened_with_before = true,
            "before" => close(&mut steps, &mut cur, &mut place),
            "after" | "once" if command_start => {}
            "after" => {
                close(&mut steps, &mut cur, &mut place);
                place = Place::First;
            }
            "but" if at(i + 1) == Some("first") => {
                close(&mut steps, &mut cur, &mut place);
                place = Place::First;
                skip = 2;
            }
            "first" if cur.is_empty() => {
                if !steps.is_empty() {
                    place = Place::First;
                }
            }
            // "turn left first, then …": the order is already right
            "first" if matches!(at(i + 1), None | Some(",")) => {}
            // "before you …", "once you've …"
            "you" if cur.is_empty() && at(i + 1) == Some("have") => skip = 2,
            "you" | "you've" if cur.is_empty() => {}
            _ => cur.push(t),
        }
        i += skip;
    }
    close(&mut steps, &mut cur, &mut place);
    let particle = |w: &Vec<&str>| {
        matches!(
            w.as_slice(),
            ["on"
                | "off"
                | "back"
                | "again"
                | "left"
                | "right"
                | "up"
                | "down"
                | "forward"
                | "forwards"
                | "backward"
                | "backwards"
                | "too"
                | "also"]
        )
    };
    let refers_back = |w: &Vec<&str>| w.iter().any(|w| BACK_REFERENCES.contains(w));
    // "before X, Y, Z" or "A, B after C": which steps move is not clear; planned whole.
    let moved = steps.iter().any(|(p, _)| *p == Place::First);
    if steps.iter().any(|(_, w)| particle(w) || refers_back(w)) || (moved && steps.len() != 2) {
        return Vec::new();
    }

    // "…, four times": the steps before it, again; "honk twice": that step.
    let mut times = 1;
    if steps.len() >= 2 {
        if let Some(n) = steps.last().and_then(|(_, w)| repetition(w)) {
            steps.pop();
            times = n;
        }
    }
    if let Some((place, mut last)) = steps.pop() {
        let tail =
            (1..=3).filter(|&t| last.len() > t).find_map(|t| repetition(&last[last.len() - t..]).map(|n| (t, n)));
        match tail {
            // "drive 1 m and turn left four times": the turn, or both? Planned whole.
            Some(_) if !steps.is_empty() && times == 1 => return Vec::new(),
            Some((t, n)) => {
                last.truncate(last.len() - t);
                steps.extend(std::iter::repeat_n((place, last), n));
            }
            None => steps.push((place, last)),
        }
    }

    let mut ordered: Vec<Vec<&str>> = Vec::new();
    for (place, words) in steps {
        match place {
            Place::Next => ordered.push(words),
            Place::First => ordered.insert(0, words),
        }
    }
    let all: Vec<String> = (0..times).flat_map(|_| ordered.iter().map(|w| w.join(" "))).collect();
    if all.len() < 2 || all.len() > MAX_CLAUSES {
        return Vec::new();
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[track_caller]
    fn cut(command: &str, want: &[&str]) {
        assert_eq!(clauses(&normalize(command)), want, "{command:?} (normalized {:?})", normalize(command));
    }

    #[test]
    fn lists_are_cut_at_commas_and_sequencing_words() {
        cut("Drive forward 2 m, then turn left 90 degrees.", &["drive forward 2 m", "turn left 90 degrees"]);
        cut(
            "horn on, wait a second, horn off, wait a second, horn on",
            &["horn on", "wait 1 second", "horn off", "wait 1 second", "horn on"],
        );
        cut(
            "Go forward 30 cm. Turn left. Go forward 30 cm. Turn left.",
            &["go forward 0.3 m", "turn left", "go forward 0.3 m", "turn left"],
        );
        cut("drive forward 1 metre and then stop", &["drive forward 1 m", "stop"]);
        cut(
            "First turn right 90 degrees, after that drive 4 m, finally turn left 90 degrees",
            &["turn right 90 degrees", "drive 4 m", "turn left 90 degrees"],
        );
        cut("back up 1 m followed by a left turn", &["back up 1 m", "a left turn"]);
    }

    #[test]
    fn steps_are_put_in_the_order_they_happen() {
        cut("Before you swing right 30 degrees, back off 40 cm.", &["back off 0.4 m", "swing right 30 degrees"]);
        cut("Turn left 90 degrees after driving forward 3 metres.", &["driving forward 3 m", "turn left 90 degrees"]);
        cut("drive forward 2 m after you beep", &["beep", "drive forward 2 m"]);
        cut("Drive 2 metres, but first turn 20 degrees right.", &["turn 20 degrees right", "drive 2 m"]);
        cut("After you reverse 2 m, stop.", &["reverse 2 m", "stop"]);
        cut(
            "turn on the lights and wait ten seconds before driving forward 1 metre",
            &["turn on the lights", "wait 10 seconds", "driving forward 1 m"],
        );
        cut("turn left first, then drive 1 m", &["turn left", "drive 1 m"]);
        cut("Okay, before you drive 1 m, honk", &["honk", "drive 1 m"]);
    }

    #[test]
    fn what_the_cut_would_get_wrong_is_planned_whole() {
        // Which steps move with "before"/"after" when there are more than two.
        cut("before you drive 1 m, turn on the lights and honk", &[]);
        cut("honk, then drive 2 m after turning left", &[]);
        // A wait said as "after N seconds".
        cut("turn on the horn, then turn the horn off after 2 seconds", &[]);
        cut("in 5 seconds, turn left", &[]);
        // A particle alone is no step.
        cut("turn the lights on and off", &[]);
    }

    #[test]
    fn repetitions_are_written_out() {
        cut(
            "Drive 1 m and turn left 90 degrees, four times.",
            &[
                "drive 1 m",
                "turn left 90 degrees",
                "drive 1 m",
                "turn left 90 degrees",
                "drive 1 m",
                "turn left 90 degrees",
                "drive 1 m",
                "turn left 90 degrees",
            ],
        );
        cut("honk twice", &["honk", "honk"]);
        // The last step only, or all of them? Planned whole.
        cut("drive 1 m, then turn left 90 degrees 3 times", &[]);
        // More than a plan holds: planned whole (and refused by the limits if it says so).
        cut("drive 1 m and turn left 90 degrees, five times", &[]);
    }

    #[test]
    fn single_steps_fillers_and_quantities_after_commas_stay_whole() {
        for one in [
            "Wait, 5 seconds.",
            "Drive forward, 1 meter.",
            "turn left 90 degrees, please",
            "um, turn right, uh, 45 degrees",
            "um, can you turn left a bit... like 30 degrees?",
            "Whoa, whoa, stop!",
            "whoa there",
            "Base: 30 degrees to the left.",
            "Rotate the base to the left, 75 degrees from center.",
            "stop",
            "spin around once",
            "drive forward two and a half metres",
            "",
        ] {
            cut(one, &[]);
        }
    }

    #[test]
    fn steps_that_refer_back_are_not_cut() {
        cut("Turn on the lights, drive 3 metres, then turn them off.", &[]);
        cut("rotate the wrist to the left, then rotate it back", &[]);
        cut("close the gripper, then let it go", &[]);
        cut("honk, then do that again", &[]);
        cut("grab it and then lift the wrist to 20 degrees", &[]);
        cut("drive 1 m, then do the same again", &[]);
    }
}
