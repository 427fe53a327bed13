//! `minhu calendar import|show`.

use std::collections::BTreeSet;
use std::process::ExitCode;

use chrono::Datelike;
use minhu_domain::CalendarDayKind;
use minhu_domain::calendar::{format_calendar_file, parse_calendar_file};

use super::{CalendarCommand, open};
use crate::config::Config;

pub(super) async fn run(config: Config, command: CalendarCommand) -> anyhow::Result<ExitCode> {
    match command {
        CalendarCommand::Import { file } => {
            // Read and check the file before touching the database.
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let days = parse_calendar_file(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if days.is_empty() {
                anyhow::bail!("{} lists no days", file.display());
            }
            let app = open(config).await?;
            app.store.upsert_calendar_days(&days).await?;
            let years: BTreeSet<i32> = days.iter().map(|d| d.date.year()).collect();
            let holidays = days
                .iter()
                .filter(|d| d.kind == CalendarDayKind::Holiday)
                .count();
            let years: Vec<String> = years.iter().map(ToString::to_string).collect();
            app.audit(
                None,
                "calendar_import",
                &file.display().to_string(),
                Some(format!("days={} years={}", days.len(), years.join(","))),
                None,
            )
            .await?;
            println!(
                "Imported {} days for {}: {holidays} holidays, {} make-up working days.",
                days.len(),
                years.join(", "),
                days.len() - holidays
            );
        }
        CalendarCommand::Show { year } => {
            let app = open(config).await?;
            let mut days = app.store.list_calendar_days().await?;
            days.retain(|d| year.is_none_or(|y| d.date.year() == y));
            days.sort_by_key(|d| d.date);
            if days.is_empty() {
                match year {
                    Some(y) => eprintln!("No calendar days stored for {y}: Monday–Friday apply."),
                    None => eprintln!("No calendar days stored: Monday–Friday apply."),
                }
            } else {
                print!("{}", format_calendar_file(&days));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
