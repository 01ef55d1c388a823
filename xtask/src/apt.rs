//! Debian packages the tasks need (libclang, redis-server), installed with apt-get, through sudo
//! when not root.

use anyhow::{Result, bail};

use crate::cmd::Cmd;

/// `apt-get install -y --no-install-recommends <package>`, refreshing the package lists if the
/// first try fails; `elsewhere` says how to get the package without apt-get.
pub(crate) fn install(package: &str, elsewhere: &str) -> Result<()> {
    if Cmd::new("apt-get").arg("--version").read().is_err() {
        bail!("{package} is missing and this machine has no apt-get: {elsewhere}");
    }
    let root = Cmd::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|uid| uid.trim() == "0");
    let apt = || {
        let cmd = if root {
            Cmd::new("apt-get")
        } else {
            Cmd::new("sudo").arg("apt-get")
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive")
    };
    let install = || {
        apt()
            .args(["install", "-y", "--no-install-recommends", package])
            .run()
    };
    if install().is_ok() {
        return Ok(());
    }
    apt().args(["update"]).run()?;
    install().map_err(|error| {
        error.context(format!(
            "failed to install {package}; install it by hand ({elsewhere})"
        ))
    })
}
