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
pub(super) fn publish(bundle: PathBuf, to: Option<String>, broker: BrokerArgs, timeout: u64) -> anyhow::Result<()> {
    let (_, host, port) = broker.resolve()?;
    let to = to.map(|t| crate::fleet::Target::parse(&t)).transpose().map_err(|e| anyhow!(e))?;
    let args = crate::fleet::publish::PublishArgs {
        bundle: &bundle,
        host,
        port,
        to,
        timeout: std::time::Duration::from_secs(timeout),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("{}", rt.block_on(crate::fleet::publish::publish(args))?);
    Ok(())
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
