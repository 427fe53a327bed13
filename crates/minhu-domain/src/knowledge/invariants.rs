//! What must hold of every knowledge entry the actions produce (with all its versions loaded).

use super::{KnowledgeAggregate, KnowledgeState};

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

/// Checks an entry with every one of its versions: versions numbered 1… without gaps; the
/// published version not after the latest and published exactly while the entry is; a published
/// entry's content is its published version's, an unpublished draft's or review's that of its
/// latest version; only the live or latest version is a draft, in review or published; a
/// temporary entry has an end; counters are not negative; no derived state is stored.
///
/// # Errors
///
/// The first broken rule, in Chinese.
pub fn check_knowledge_invariants(agg: &KnowledgeAggregate) -> Result<(), String> {
    use KnowledgeState as S;
    let entry = &agg.entry;
    let numbers: Vec<i32> = agg.versions.iter().map(|v| v.version).collect();
    let expected: Vec<i32> = (1..=entry.latest_version).collect();
    ensure(numbers == expected, || {
        format!("版本号{numbers:?}与最新版本{}不符", entry.latest_version)
    })?;
    for v in &agg.versions {
        ensure(v.entry_id == entry.id, || {
            format!("版本{}属于知识{}，不属于本知识", v.version, v.entry_id)
        })?;
        ensure(!v.state.is_derived(), || {
            format!("版本{}存储了派生状态{}", v.version, v.state.label())
        })?;
        ensure(
            !v.content.temporary || v.content.expires_at.is_some(),
            || format!("临时知识版本{}没有失效时间", v.version),
        )?;
        let open = matches!(v.state, S::Draft | S::InReview | S::Published);
        ensure(
            !open
                || v.version == entry.latest_version
                || Some(v.version) == entry.published_version,
            || format!("旧版本{}仍为{}", v.version, v.state.label()),
        )?;
    }
    ensure(
        !matches!(entry.state, S::Scheduled | S::Expired | S::Superseded),
        || format!("知识存储了状态{}", entry.state.label()),
    )?;
    ensure(entry.used_count >= 0 && entry.helpful_count >= 0, || {
        "计数为负".to_owned()
    })?;
    let latest = agg
        .latest()
        .ok_or_else(|| format!("最新版本{}缺失", entry.latest_version))?;
    match entry.published_version {
        Some(number) => {
            ensure(entry.state == S::Published, || {
                format!("知识状态为{}却有发布版本{number}", entry.state.label())
            })?;
            ensure(number <= entry.latest_version, || {
                format!("发布版本{number}晚于最新版本{}", entry.latest_version)
            })?;
            let live = agg
                .version(number)
                .ok_or_else(|| format!("发布版本{number}缺失"))?;
            ensure(live.state == S::Published, || {
                format!("发布版本{number}的状态为{}", live.state.label())
            })?;
            ensure(live.content == entry.content, || {
                format!("知识内容与发布版本{number}不一致")
            })?;
            ensure(
                number == entry.latest_version || matches!(latest.state, S::Draft | S::InReview),
                || format!("最新版本{}的状态为{}", latest.version, latest.state.label()),
            )?;
        }
        None => {
            ensure(entry.state != S::Published, || {
                "已发布的知识没有发布版本".to_owned()
            })?;
            ensure(agg.versions.iter().all(|v| v.state != S::Published), || {
                "未发布的知识有已发布的版本".to_owned()
            })?;
            if matches!(entry.state, S::Draft | S::InReview) {
                ensure(latest.state == entry.state, || {
                    format!(
                        "知识状态{}与最新版本状态{}不一致",
                        entry.state.label(),
                        latest.state.label()
                    )
                })?;
                ensure(latest.content == entry.content, || {
                    "知识内容与最新版本不一致".to_owned()
                })?;
            }
            if entry.state == S::Withdrawn {
                ensure(
                    agg.versions
                        .iter()
                        .all(|v| matches!(v.state, S::Withdrawn | S::Superseded)),
                    || "已撤回的知识仍有在用版本".to_owned(),
                )?;
            }
        }
    }
    Ok(())
}
