//! The billing binary's configuration, read once in `main`.

use teleconf_adapters::aws::AwsSettings;
use teleconf_domain::{AccountId, YearMonth};

/// How the binary runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// AWS resources.
    pub aws: AwsSettings,
    /// `--month YYYY-MM [--account ID]` on the command line: one run against the
    /// configured stack (`make bill`), then exit. `None`: the Lambda runtime.
    pub once: Option<(YearMonth, Option<AccountId>)>,
}

impl Config {
    /// Reads the environment and the command line (`args` without the program name).
    pub fn from_env(args: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        Ok(Self {
            aws: AwsSettings::from_env()?,
            once: parse_args(args)?,
        })
    }
}

/// `--month YYYY-MM [--account ID]`, or nothing.
fn parse_args(
    args: impl IntoIterator<Item = String>,
) -> anyhow::Result<Option<(YearMonth, Option<AccountId>)>> {
    let mut month = None;
    let mut account = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--month" => month = Some(value()?.parse::<YearMonth>()?),
            "--account" => account = Some(value()?.parse::<AccountId>()?),
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: teleconf-billing [--month YYYY-MM [--account ID]]"
            ),
        }
    }
    match (month, account) {
        (None, Some(_)) => anyhow::bail!("--account needs --month"),
        (None, None) => Ok(None),
        (Some(m), a) => Ok(Some((m, a))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_line_names_a_month_and_maybe_an_account() {
        assert_eq!(parse_args(args(&[])).unwrap(), None);
        let (m, a) = parse_args(args(&["--month", "2026-11"])).unwrap().unwrap();
        assert_eq!((m.to_string(), a), ("2026-11".to_string(), None));
        assert!(parse_args(args(&["--month"])).is_err());
        assert!(parse_args(args(&["--month", "2026-13"])).is_err());
        assert!(parse_args(args(&["--account", "x"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
    }
}
