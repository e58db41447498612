//! A bundle from its HTTP(S) mirror (the signed manifest's `mirror`), for robots that can
//! reach one: one GET, from the first chunk the robot lacks (`Range`), cut into the
//! announcement's chunks. Each chunk goes through the same check as one from the broker
//! ([`super::store::Download::put`]), so a mirror is trusted for nothing: wrong bytes are
//! refused chunk by chunk, and the robot takes what is missing from the broker instead.
//!
//! The URL is one the signer chose (the manifest is signed and checked before a byte is
//! fetched): a peer on the broker cannot make a robot connect anywhere. `[fleet] mirror =
//! false` keeps a robot off the network beyond its broker.
//!
//! Blocking (ureq): the agent runs it on a thread of its own (detached: a stalled mirror
//! never holds the daemon's exit) and hears each chunk over a channel. At most 3 redirects,
//! and from an `https://` URL to `https://` only.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::BlobRef;

/// How long a mirror may take to resolve, to accept a connection, to answer, and to send
/// the next bytes of the body.
const CONNECT: Duration = Duration::from_secs(5);
const RESPONSE: Duration = Duration::from_secs(10);
const READ: Duration = Duration::from_secs(10);
/// The slowest whole body a mirror may send: 128 KiB/s, and half a minute more (a 7.6 MB
/// skill: 88 s). A slower mirror gives way to the broker, which goes on from the chunks it
/// sent.
const MIN_BYTES_PER_S: u64 = 128 << 10;
const BODY_SLACK_S: u64 = 30;

/// Fetch `blob` from `url`, from chunk `first` on, calling `each(index, bytes)` with every
/// whole chunk in order. Stops early, without error, when `each` returns false or `cancel`
/// is set. An error says what went wrong (the caller logs it and falls back to the broker).
pub fn fetch(
    url: &str,
    blob: &BlobRef,
    first: usize,
    cancel: &AtomicBool,
    mut each: impl FnMut(usize, Vec<u8>) -> bool,
) -> Result<(), String> {
    let chunk = u64::from(blob.chunk_bytes);
    let offset = chunk * first as u64;
    if offset >= blob.size {
        return Ok(());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(CONNECT))
        .timeout_connect(Some(CONNECT))
        .timeout_recv_response(Some(RESPONSE))
        .timeout_per_read(Some(READ))
        // The whole file: a server without ranges sends it all.
        .timeout_recv_body(Some(Duration::from_secs(BODY_SLACK_S + blob.size / MIN_BYTES_PER_S)))
        .max_redirects(3)
        .https_only(url.starts_with("https://"))
        .http_status_as_error(false)
        .user_agent(concat!("trinity/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut req = agent.get(url);
    if offset > 0 {
        req = req.header("Range", format!("bytes={offset}-"));
    }
    let resp = req.call().map_err(|e| e.to_string())?;
    // 206: the bytes from `offset`; 200: the whole file (a server without ranges), skipped
    // up to `offset`.
    let skip = match resp.status().as_u16() {
        206 if offset > 0 => 0,
        200 => offset,
        s => return Err(format!("HTTP {s}")),
    };
    let mut body = resp.into_body().into_with_config().limit(blob.size - offset + skip).reader();
    let mut skipped = 0;
    while skipped < skip {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        let n = std::io::copy(&mut (&mut body).take((skip - skipped).min(chunk)), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("the file ends after {skipped} bytes (the bundle has {})", blob.size));
        }
        skipped += n;
    }
    for index in first..blob.chunks.len() {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        let len = chunk.min(blob.size - chunk * index as u64);
        let mut bytes = Vec::with_capacity(len as usize);
        let got = (&mut body).take(len).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        if (got as u64) < len {
            return Err(format!(
                "the file ends after {} bytes (the bundle has {})",
                chunk * index as u64 + got as u64,
                blob.size
            ));
        }
        if !each(index, bytes) {
            return Ok(());
        }
    }
    Ok(())
}
