//! What the daemon has to publish, kept until the broker acknowledged it.
//!
//! rumqttc forgets unacknowledged publishes (and requests still in its channel) when the
//! broker answers a reconnect with a clean session, and it numbers publishes only when it
//! writes them. The outbox follows each message through rumqttc's write order
//! (`Outgoing::Publish(pkid)`) to its PUBACK, and on a CONNACK either lets rumqttc resend
//! (session resumed: same order) or sends the unacknowledged messages again itself (new
//! session). Sans-IO: the link feeds it rumqttc's events.
//!
//! Only messages that can be sent get in ([`Outbox::push`]): a topic with a control
//! character makes brokers drop the connection, and a payload over the packet limit makes
//! rumqttc fail the connection; either, retried first after every reconnect, would keep the
//! link (and everything behind it) down for good.

use std::collections::VecDeque;

/// The largest payload the daemon publishes (docs/DESIGN.md, "Contract v1.1": every outgoing payload fits the
/// broker's packet limit). 64 KiB: what brokers accept by default, with room to spare.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// The longest topic the daemon publishes.
pub const MAX_TOPIC: usize = 256;

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// Delivery: QoS 0 or QoS 1 (the daemon publishes nothing at QoS 2).
    pub delivery: Delivery,
    /// Retained at the broker for later subscribers (MQTT's retain flag).
    pub retain: bool,
    /// What goes first when the outbox is full.
    pub keep: Keep,
}

impl Msg {
    /// Published at QoS 1, not retained: events, the backlog probe.
    pub fn at_least_once(topic: String, payload: Vec<u8>, keep: Keep) -> Self {
        Msg { topic, payload, delivery: Delivery::AtLeastOnce, retain: false, keep }
    }

    /// Retained at QoS 1 (`status`, `info`, discovery): what a client reads when it joins.
    pub fn retained(topic: String, payload: Vec<u8>) -> Self {
        Msg { topic, payload, delivery: Delivery::AtLeastOnce, retain: true, keep: Keep::Final }
    }

    /// A telemetry sample: QoS 0, the first to go when the outbox is full.
    pub fn telemetry(topic: String, payload: Vec<u8>) -> Self {
        Msg { topic, payload, delivery: Delivery::AtMostOnce, retain: false, keep: Keep::Telemetry }
    }
}

/// MQTT delivery, as far as the outbox cares: only QoS 1 waits for a PUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// QoS 0: written once, forgotten.
    AtMostOnce,
    /// QoS 1: kept until the broker acknowledges it, sent again after a new session.
    AtLeastOnce,
}

/// How much a message matters when the outbox is full: the lowest class goes first, the
/// oldest of it first; a new message of a lower class than everything queued is dropped
/// itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Keep {
    /// Telemetry: the next sample replaces it.
    Telemetry,
    /// A command's progress (`accepted`, `executing`): its terminal event still follows.
    Progress,
    /// What a client waits on: terminal events, retained `status`/`info`, the backlog probe.
    Final,
}

/// The outbox.
#[derive(Debug)]
pub struct Outbox {
    /// Not yet handed to rumqttc.
    queue: VecDeque<Msg>,
    /// Handed to rumqttc, not yet written (no packet id seen).
    awaiting: VecDeque<Msg>,
    /// Written with QoS 1, waiting for PUBACK: (packet id, message), in write order.
    inflight: VecDeque<(u16, Msg)>,
    max: usize,
    dropped: u64,
}

impl Outbox {
    /// An outbox holding at most `max` messages in all.
    pub fn new(max: usize) -> Self {
        Outbox { queue: VecDeque::new(), awaiting: VecDeque::new(), inflight: VecDeque::new(), max, dropped: 0 }
    }

    /// Messages held (queued, handed or in flight).
    pub fn len(&self) -> usize {
        self.queue.len() + self.awaiting.len() + self.inflight.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages dropped because the outbox was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Queue a message, or refuse one that could not be sent (see the module docs). When
    /// full, the oldest queued message of the lowest [`Keep`] class goes first, unless the
    /// new one is of a lower class still: then it is dropped. A terminal event is dropped
    /// only when the whole outbox holds terminal events (thousands of commands' worth).
    pub fn push(&mut self, msg: Msg) -> Result<(), Unsendable> {
        sendable(&msg)?;
        if self.len() >= self.max {
            let lowest = self.queue.iter().map(|m| m.keep).min();
            match lowest {
                Some(k) if k <= msg.keep => {
                    if let Some(i) = self.queue.iter().position(|m| m.keep == k) {
                        self.queue.remove(i);
                    }
                    self.dropped += 1;
                }
                // Nothing queued of a class this low: the new message is the one to go.
                Some(_) => {
                    self.dropped += 1;
                    return Ok(());
                }
                // Everything is with rumqttc or in flight: telemetry waits for the next
                // sample; anything else goes in over the limit (counted).
                None if msg.keep == Keep::Telemetry => {
                    self.dropped += 1;
                    return Ok(());
                }
                None => self.dropped += 1,
            }
        }
        self.queue.push_back(msg);
        Ok(())
    }

    /// The next message to hand to rumqttc.
    pub fn peek(&self) -> Option<&Msg> {
        self.queue.front()
    }

    /// rumqttc took the message from [`Outbox::peek`].
    pub fn handed(&mut self) {
        if let Some(m) = self.queue.pop_front() {
            self.awaiting.push_back(m);
        }
    }

    /// rumqttc wrote a publish with this packet id (0 for QoS 0).
    pub fn on_outgoing_publish(&mut self, pkid: u16) {
        if let Some(m) = self.awaiting.pop_front() {
            if m.delivery == Delivery::AtLeastOnce {
                self.inflight.push_back((pkid, m));
            }
        }
    }

    /// The broker acknowledged `pkid`.
    pub fn on_puback(&mut self, pkid: u16) {
        if let Some(i) = self.inflight.iter().position(|(p, _)| *p == pkid) {
            self.inflight.remove(i);
        }
    }

    /// A CONNACK. Resumed session: rumqttc resends what it held, in write order, then what
    /// was still in its channel. New session: rumqttc dropped all of it; queue it again.
    pub fn on_connack(&mut self, session_present: bool) {
        let inflight = self.inflight.drain(..).map(|(_, m)| m);
        if session_present {
            let mut again: VecDeque<Msg> = inflight.collect();
            again.append(&mut self.awaiting);
            self.awaiting = again;
        } else {
            let mut again: VecDeque<Msg> = inflight.chain(self.awaiting.drain(..)).collect();
            again.append(&mut self.queue);
            self.queue = again;
        }
    }
}

/// A message that no broker would take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    /// The topic is empty, too long, or holds a control character, `+`, `#` or a
    /// non-ASCII character.
    #[error("topic {0} cannot be published to")]
    Topic(String),
    /// The payload is over [`MAX_PAYLOAD`].
    #[error("payload for {topic} is {bytes} bytes; the limit is {MAX_PAYLOAD}")]
    Payload {
        /// Where it was going.
        topic: String,
        /// Its size.
        bytes: usize,
    },
}

/// Whether `msg` can be published at all.
pub fn sendable(msg: &Msg) -> Result<(), Unsendable> {
    let t = &msg.topic;
    let topic_ok =
        !t.is_empty() && t.len() <= MAX_TOPIC && t.bytes().all(|b| b.is_ascii_graphic() && b != b'+' && b != b'#');
    if !topic_ok {
        return Err(Unsendable::Topic(crate::names::shown(t)));
    }
    if msg.payload.len() > MAX_PAYLOAD {
        return Err(Unsendable::Payload { topic: t.clone(), bytes: msg.payload.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A QoS 1 event (`true`) or a telemetry sample (`false`).
    fn msg(t: &str, acked: bool) -> Msg {
        if acked {
            Msg::at_least_once(t.into(), vec![], Keep::Final)
        } else {
            Msg::telemetry(t.into(), vec![])
        }
    }

    impl Outbox {
        fn push_ok(&mut self, m: Msg) {
            self.push(m).unwrap()
        }
    }

    #[test]
    fn issue_11_messages_no_broker_would_take_are_refused_not_queued() {
        let mut o = Outbox::new(10);
        for topic in ["trinity/r1/evt/a\0b", "trinity/r1/evt/\u{7}", "trinity/r1/evt/+", "", "trinity/é"] {
            assert!(matches!(o.push(msg(topic, true)), Err(Unsendable::Topic(_))), "{topic:?}");
        }
        let big = Msg { payload: vec![b'x'; MAX_PAYLOAD + 1], ..msg("trinity/r1/info", true) };
        assert!(matches!(o.push(big), Err(Unsendable::Payload { bytes, .. }) if bytes == MAX_PAYLOAD + 1));
        assert!(o.is_empty());
        let fits = Msg { payload: vec![b'x'; MAX_PAYLOAD], ..msg("trinity/r1/info", true) };
        assert_eq!(o.push(fits), Ok(()));
    }

    fn send_all(o: &mut Outbox) -> Vec<String> {
        let mut sent = vec![];
        while let Some(m) = o.peek() {
            sent.push(m.topic.clone());
            o.handed();
        }
        sent
    }

    #[test]
    fn acknowledged_messages_leave_the_outbox() {
        let mut o = Outbox::new(10);
        o.push_ok(msg("a", true));
        o.push_ok(msg("t", false));
        assert_eq!(send_all(&mut o), ["a", "t"]);
        o.on_outgoing_publish(1);
        o.on_outgoing_publish(0);
        assert_eq!(o.len(), 1, "QoS 0 is done once written");
        o.on_puback(1);
        assert!(o.is_empty());
    }

    #[test]
    fn a_new_session_gets_every_unacknowledged_message_again_in_order() {
        let mut o = Outbox::new(10);
        for t in ["a", "b", "c"] {
            o.push_ok(msg(t, true));
        }
        send_all(&mut o);
        o.on_outgoing_publish(1); // a written
        o.on_outgoing_publish(2); // b written; c still in rumqttc's channel
        o.on_puback(1);
        o.push_ok(msg("d", true)); // produced while the broker was away
        o.on_connack(false);
        assert_eq!(send_all(&mut o), ["b", "c", "d"]);
    }

    #[test]
    fn a_resumed_session_lets_rumqttc_resend_and_keeps_the_ids_straight() {
        let mut o = Outbox::new(10);
        for t in ["a", "b"] {
            o.push_ok(msg(t, true));
        }
        send_all(&mut o);
        o.on_outgoing_publish(1);
        o.on_connack(true);
        assert!(o.peek().is_none(), "rumqttc resends these itself");
        // rumqttc rewrites a (pkid 1) then b (new pkid 2).
        o.on_outgoing_publish(1);
        o.on_outgoing_publish(2);
        o.on_puback(2);
        o.on_puback(1);
        assert!(o.is_empty());
    }

    #[test]
    fn when_full_telemetry_goes_before_events() {
        let mut o = Outbox::new(3);
        o.push_ok(msg("e1", true));
        o.push_ok(msg("t1", false));
        o.push_ok(msg("e2", true));
        o.push_ok(msg("e3", true));
        assert_eq!(o.dropped(), 1);
        assert_eq!(send_all(&mut o), ["e1", "e2", "e3"]);
        o.push_ok(msg("t2", false));
        assert_eq!(o.dropped(), 2, "no room and nothing queued to drop: telemetry is dropped");
    }

    #[test]
    fn when_full_progress_goes_before_a_terminal_event_and_telemetry_before_both() {
        let progress = |t: &str| Msg { keep: Keep::Progress, ..msg(t, true) };
        let mut o = Outbox::new(4);
        o.push_ok(msg("a/succeeded", true));
        o.push_ok(progress("b/accepted"));
        o.push_ok(msg("t1", false));
        o.push_ok(progress("b/executing"));
        o.push_ok(msg("b/succeeded", true)); // t1 goes
        o.push_ok(msg("c/rejected", true)); // b/accepted goes
        assert_eq!(o.dropped(), 2);
        o.push_ok(msg("t2", false)); // lower than all queued: dropped itself
        o.push_ok(progress("d/accepted")); // b/executing goes (oldest progress)
        assert_eq!(o.dropped(), 4);
        assert_eq!(send_all(&mut o), ["a/succeeded", "b/succeeded", "c/rejected", "d/accepted"]);
    }
}
