//! The commands that talk to robots over the broker: `trinity send`, `skill publish`,
//! `fleet status`.

use std::path::PathBuf;

use anyhow::{anyhow, bail};

use super::settings::BrokerArgs;
use super::DEFAULT_ROBOT_ID;

/// `trinity send`: one command, its events followed; an error unless it succeeded.
pub(super) fn send(
    broker: BrokerArgs,
    robot_id: Option<String>,
    skill: Option<String>,
    timeout: u64,
    text: Vec<String>,
) -> anyhow::Result<()> {
    let (config, host, port) = broker.resolve()?;
    let args = crate::send::SendArgs {
        host,
        port,
        robot_id: robot_id.or(config.robot_id.clone()).unwrap_or_else(|| DEFAULT_ROBOT_ID.into()),
        skill,
        text: text.join(" "),
        timeout: std::time::Duration::from_secs(timeout),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let last = rt.block_on(crate::send::send(args))?;
    if last.state != trinity_wire::State::Succeeded {
        bail!("command ended {}", serde_json::to_string(&last.state)?);
    }
    Ok(())
}

/// `trinity skill publish`: a signed bundle announced and served over the broker.
pub(super) fn publish(
    bundle: PathBuf,
    to: Option<String>,
    broker: BrokerArgs,
    nodes: Vec<String>,
    timeout: u64,
) -> anyhow::Result<()> {
    let (_, host, port) = broker.resolve()?;
    let to = to.map(|t| crate::fleet::Target::parse(&t)).transpose().map_err(|e| anyhow!(e))?;
    let mut brokers = vec![(host, port)];
    for n in nodes {
        brokers.push(host_port(&n)?);
    }
    let args = crate::fleet::publish::PublishArgs {
        bundle: &bundle,
        brokers,
        to,
        timeout: std::time::Duration::from_secs(timeout),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("{}", rt.block_on(crate::fleet::publish::publish(args))?);
    Ok(())
}

/// `HOST:PORT` (an IPv6 address in brackets: `[::1]:1883`).
fn host_port(s: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| anyhow!("`{s}`: expected HOST:PORT"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = port.parse().map_err(|_| anyhow!("`{s}`: `{port}` is not a port number"))?;
    if host.is_empty() {
        bail!("`{s}`: expected HOST:PORT");
    }
    Ok((host.to_owned(), port))
}

/// `trinity fleet status`: the robots on a broker, as a table or JSON.
pub(super) fn fleet_status(broker: BrokerArgs, json: bool) -> anyhow::Result<()> {
    let (_, host, port) = broker.resolve()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let settle = std::time::Duration::from_millis(700);
    let robots = rt.block_on(crate::fleet::status::status(&host, port, settle, settle * 10))?;
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && !json {
        print!("{}", crate::fleet::status::table(&robots));
    } else {
        println!("{}", serde_json::Value::from(robots));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn cluster_nodes_are_host_and_port() {
        assert_eq!(host_port("rabbit2:1884").unwrap(), ("rabbit2".into(), 1884));
        assert_eq!(host_port("[::1]:1883").unwrap(), ("::1".into(), 1883));
        for bad in ["rabbit2", "rabbit2:", ":1883", "rabbit2:99999", "rabbit2:x"] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
    }
}
