//! `minhu user add|passwd|list`.

use std::collections::HashMap;
use std::process::ExitCode;

use super::{UserCommand, open};
use crate::config::Config;
use crate::service::App;
use crate::service::auth::{check_password_strength, hash_password, random_password};

pub(super) async fn run(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    match command {
        UserCommand::Add {
            username,
            name,
            unit,
            roles,
            password,
        } => {
            let units = app.store.list_units().await?;
            let Some(unit) = units.iter().find(|u| u.code == unit) else {
                anyhow::bail!(
                    "no unit has the code `{unit}` (run `minhu migrate` to create the centre unit `CENTRE`)"
                );
            };
            let (password, generated) = chosen_password(password);
            let user = app
                .create_user_with_password(&username, &name, unit.id, &roles, &password)
                .await?;
            let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
            app.audit(
                None,
                "create_user",
                &user.username,
                Some(format!("cli; unit={} roles={}", unit.code, roles.join(","))),
                None,
            )
            .await?;
            println!(
                "Created user `{}` ({}) in {} {} with roles {}.",
                user.username,
                user.display_name,
                unit.code,
                unit.name,
                roles.join(",")
            );
            if generated {
                println!("Password (shown only now): {password}");
            }
        }
        UserCommand::Passwd { username, password } => {
            set_password(&app, &username, password).await?;
        }
        UserCommand::List => list(&app).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn chosen_password(password: Option<String>) -> (String, bool) {
    match password {
        Some(p) => (p, false),
        None => (random_password(), true),
    }
}

async fn set_password(app: &App, username: &str, password: Option<String>) -> anyhow::Result<()> {
    let Some(user) = app.store.find_user_by_username(username).await? else {
        anyhow::bail!("no user is called `{username}`");
    };
    let (password, generated) = chosen_password(password);
    check_password_strength(&password)?;
    let hash = hash_password(&password)?;
    app.store.set_password(user.id, &hash).await?;
    app.audit(
        None,
        "set_password",
        &user.username,
        Some("cli".to_owned()),
        None,
    )
    .await?;
    println!("Password of `{}` changed.", user.username);
    if generated {
        println!("New password (shown only now): {password}");
    }
    Ok(())
}

async fn list(app: &App) -> anyhow::Result<()> {
    let units: HashMap<i64, (String, String)> = app
        .store
        .list_units()
        .await?
        .into_iter()
        .map(|u| (u.id, (u.code, u.name)))
        .collect();
    let mut users = app.store.list_users().await?;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    println!("USERNAME\tNAME\tUNIT\tROLES\tACTIVE");
    for user in &users {
        let unit = units.get(&user.unit_id).map_or_else(
            || user.unit_id.to_string(),
            |(code, name)| format!("{code} {name}"),
        );
        let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
        println!(
            "{}\t{}\t{unit}\t{}\t{}",
            user.username,
            user.display_name,
            roles.join(","),
            if user.active { "yes" } else { "no" }
        );
    }
    println!("{} users.", users.len());
    Ok(())
}
