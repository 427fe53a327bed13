//! Turning the stories into orders: places, callers, phrasing, channels.

use minhu_domain::{
    CallerTag, Channel, Citizen, EmergencyLine, Gender, LegalChannel, OrderType, Urgency,
};
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::stories::{TEMPLATES, Template};
use super::stories_public::PUBLIC;

const ESTATES: &[&str] = &[
    "幸福里小区",
    "阳光花园",
    "翠湖苑",
    "金桂园",
    "锦绣华庭",
    "书香门第小区",
    "和平新村",
    "春晓家园",
    "枫林湾",
    "世纪城",
    "碧水蓝天小区",
    "铁路宿舍",
    "纺织厂家属院",
    "紫荆花园",
    "江南名邸",
    "长安小区",
    "东方明珠小区",
    "建工新村",
    "丽景湾",
    "学府雅居",
    "怡景苑",
];
const ROADS: &[&str] = &[
    "澜湖路",
    "青年大街",
    "建设路",
    "人民路",
    "解放路",
    "滨河路",
    "学府路",
    "长江路",
    "黄河路",
    "文化路",
    "和平路",
    "中山路",
    "新华路",
    "光明路",
    "朝阳路",
    "胜利路",
    "东风路",
    "幸福路",
    "港湾大道",
    "松岭路",
    "科技大道",
    "云帆路",
];
const SHOPS: &[&str] = &[
    "“老王烧烤”",
    "“川味小馆”",
    "一家KTV",
    "“好邻居超市”",
    "“鲜果时光”水果店",
    "“速动”健身房",
    "“快乐成长”培训中心",
    "“美颜”美容店",
    "一家早餐店",
    "“家乐福”便利店",
];
const COMPANIES: &[&str] = &[
    "云澜市宏达建筑劳务有限公司",
    "云澜恒通商贸有限公司",
    "云港区海星电子厂",
    "青石区金鑫机械加工厂",
    "云澜市顺捷物流有限公司",
    "高新区智联科技有限公司",
];
const TIMES: &[&str] = &[
    "今天早上六点多",
    "昨天晚上十点以后",
    "从前天开始",
    "这两天",
    "近一周以来",
    "本周每天晚上",
    "今天上午",
    "今天中午",
    "昨天下午",
    "周末两天",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
];
const GIVEN: &[&str] = &[
    "建华", "秀英", "桂兰", "志强", "海燕", "丽娟", "国庆", "春梅", "晓东", "红霞", "德明", "玉珍",
    "振华", "淑芬", "文斌", "雪梅",
];
const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "176", "177", "180", "181", "182", "185", "186", "187", "188",
    "189", "199",
];
const CLOSINGS: &[&str] = &[
    "",
    "希望尽快处理。",
    "请相关部门尽快处理并回复。",
    "希望有关部门重视，给个说法。",
    "已多次反映未解决，请督促办理。",
];

/// Where an order happens.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub district: String,
    pub street: String,
    pub community: String,
}

/// The filled-in words of one order.
#[derive(Debug, Clone)]
pub(crate) struct Story {
    pub title: String,
    pub content: String,
    pub address: String,
    pub reply: String,
    pub order_type: OrderType,
}

/// The words of a leaf category, if the demo has any (`compose` falls back to neutral words).
pub(crate) fn template(code: &str) -> Option<&'static Template> {
    TEMPLATES.iter().chain(PUBLIC).find(|t| t.code == code)
}

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// Fills the placeholders of a template text.
fn fill(rng: &mut StdRng, text: &str, place: &Place, estate: &str, building: u32) -> String {
    let road = if rng.random_bool(0.5) {
        format!("{}与{}交叉口", pick(rng, ROADS), pick(rng, ROADS))
    } else {
        format!("{}{}号附近", pick(rng, ROADS), rng.random_range(1..400))
    };
    let address = format!("{}{}{estate}{building}号楼", place.street, place.community);
    // Every value is drawn, in this order, whether its placeholder occurs or not, so that a
    // seed gives the same city as when each was put in by a `str::replace` of its own.
    let time = pick(rng, TIMES);
    let days = rng.random_range(2..9).to_string();
    let shop = pick(rng, SHOPS);
    let company = pick(rng, COMPANIES);
    let n = rng.random_range(2..6).to_string();
    let values: [(&str, &str); 9] = [
        ("{addr}", &address),
        ("{xq}", estate),
        ("{road}", &road),
        ("{time}", time),
        ("{days}", &days),
        ("{shop}", shop),
        ("{company}", company),
        ("{n}", &n),
        ("{district}", &place.district),
    ];
    // One pass over the text: nine `replace`s, each copying the whole text again, were most of
    // the generator's time composing texts. No value holds a `{`, so nothing put in is
    // replaced again, as with the replaces one after the other.
    let mut filled = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let (before, from_brace) = rest.split_at(open);
        filled.push_str(before);
        match values.iter().find(|(key, _)| from_brace.starts_with(key)) {
            Some((key, value)) => {
                filled.push_str(value);
                rest = from_brace.get(key.len()..).unwrap_or_default();
            }
            None => {
                filled.push('{');
                rest = from_brace.get(1..).unwrap_or_default();
            }
        }
    }
    filled.push_str(rest);
    filled
}

/// The opening words of the content by channel.
fn opening(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "来电人反映：",
        Channel::Web => "网民在政务服务网留言：",
        Channel::MobileApp => "市民通过“云澜通”APP反映：",
        Channel::Sms => "市民短信反映：",
        Channel::LeaderMailbox => "市长信箱来信反映：",
        Channel::Transfer110 => "110指挥中心转来：",
        Channel::HigherLevel => "省12345平台转来：",
        Channel::Open311 => "市民通过随手拍（Open311）反映：",
    }
}

/// The words of an order in a leaf category named `leaf_name`.
pub(crate) fn compose(
    rng: &mut StdRng,
    code: &str,
    leaf_name: &str,
    place: &Place,
    channel: Channel,
    elderly: bool,
) -> Story {
    let estate = pick(rng, ESTATES);
    let building = rng.random_range(1..30);
    let address = format!(
        "{}{}{}{estate}{building}号楼{}单元",
        place.district,
        place.street,
        place.community,
        rng.random_range(1..5)
    );
    let (title, body, reply, order_type) = match template(code) {
        Some(t) => {
            let order_type = if rng.random_bool(0.7) {
                t.types.first().copied()
            } else {
                t.types.choose(rng).copied()
            }
            .unwrap_or(OrderType::Help);
            (
                pick(rng, t.titles).to_owned(),
                pick(rng, t.bodies).to_owned(),
                t.reply.to_owned(),
                order_type,
            )
        }
        None => (
            format!("{{xq}}{leaf_name}问题"),
            format!("{{addr}}存在{leaf_name}问题，影响日常生活，希望有关部门核实处理。"),
            "经核实，我单位已安排工作人员到现场处理，并已电话联系来电人说明情况。".to_owned(),
            OrderType::Help,
        ),
    };
    let title = fill(rng, &title, place, estate, building);
    let mut content = String::from(opening(channel));
    if elderly {
        content.push_str("来电人是独居老人，");
    }
    content.push_str(&fill(rng, &body, place, estate, building));
    content.push_str(pick(rng, CLOSINGS));
    let reply = fill(rng, &reply, place, estate, building);
    Story {
        title,
        content,
        address,
        reply,
        order_type,
    }
}

/// A caller: name (sometimes withheld), phone, gender, tags.
pub(crate) fn caller(rng: &mut StdRng, elderly: bool, confidential: bool) -> Citizen {
    let surname = pick(rng, SURNAMES);
    let gender = if rng.random_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let name = match rng.random_range(0..10) {
        0 => None,
        1..=5 => Some(format!(
            "{surname}{}",
            if gender == Gender::Male {
                "先生"
            } else {
                "女士"
            }
        )),
        _ => Some(format!("{surname}{}", pick(rng, GIVEN))),
    };
    let mut tags = Vec::new();
    if elderly {
        tags.push(CallerTag::Elderly);
    }
    Citizen {
        name,
        phone: phone(rng),
        contact_phone: None,
        gender: Some(gender),
        enterprise_name: None,
        confidential,
        tags,
    }
}

/// A mobile number like `13812345678`.
pub(crate) fn phone(rng: &mut StdRng) -> String {
    format!(
        "{}{:08}",
        pick(rng, PHONE_PREFIXES),
        rng.random_range(0..100_000_000u32)
    )
}

/// A company name for requests from enterprises (涉企).
pub(crate) fn enterprise(rng: &mut StdRng) -> String {
    pick(rng, COMPANIES).to_owned()
}

/// The channel a request came by: mostly the phone.
pub(crate) fn channel(rng: &mut StdRng) -> Channel {
    match rng.random_range(0..100) {
        0..60 => Channel::Phone,
        60..72 => Channel::Web,
        72..84 => Channel::MobileApp,
        84..88 => Channel::Sms,
        88..92 => Channel::LeaderMailbox,
        92..95 => Channel::HigherLevel,
        95..98 => Channel::Open311,
        _ => Channel::Transfer110,
    }
}

/// How urgent a matter in this leaf is.
pub(crate) fn urgency(rng: &mut StdRng, code: &str) -> Urgency {
    match code {
        "030101" => Urgency::Emergency,
        "010101" | "020101" | "030201" | "040101" | "050102" | "060101" | "09010101" => {
            if rng.random_bool(0.5) {
                Urgency::Urgent
            } else {
                Urgency::Normal
            }
        }
        _ if rng.random_bool(0.05) => Urgency::Urgent,
        _ => Urgency::Normal,
    }
}

/// Calls that belong to an emergency line: the line, a title and what the caller said.
pub(crate) const TRANSFERS: &[(EmergencyLine, &str, &str)] = &[
    (
        EmergencyLine::Police110,
        "{xq}门口有人打架",
        "{addr}门口有几个人正在打架斗殴，有人受伤流血，来电人很害怕。",
    ),
    (
        EmergencyLine::Fire119,
        "{xq}楼道冒烟疑似起火",
        "{addr}楼道里冒出很多黑烟，闻到烧焦的味道，怀疑有住户家里着火了。",
    ),
    (
        EmergencyLine::Ambulance120,
        "{road}有老人晕倒",
        "{road}公交站有一位老人突然晕倒在地，叫不醒，需要急救。",
    ),
    (
        EmergencyLine::Traffic122,
        "{road}发生交通事故",
        "{road}两辆小汽车相撞，车辆横在路中间，后方车辆拥堵，暂无人员受伤。",
    ),
];

/// Requests that have their own legal channel: the channel, a title, the matter, what the
/// caller is told.
pub(crate) const REJECTIONS: &[(LegalChannel, &str, &str, &str)] = &[
    (
        LegalChannel::Litigation,
        "要求12345判定邻里财产纠纷",
        "来电人与邻居因房屋买卖尾款发生纠纷，要求热线判定对方还钱。",
        "该诉求属于民事纠纷，已告知来电人可向人民法院提起诉讼，或申请人民调解。",
    ),
    (
        LegalChannel::Arbitration,
        "要求热线裁决劳动赔偿金额",
        "来电人与原单位就解除劳动合同的经济补偿金额存在争议，要求热线直接裁定补偿金额。",
        "已告知来电人：劳动争议应向劳动人事争议仲裁委员会申请仲裁，并告知申请地点和所需材料。",
    ),
    (
        LegalChannel::AdministrativeReview,
        "对交通违法处罚决定不服",
        "来电人对交警作出的罚款决定不服，要求热线撤销处罚。",
        "已告知来电人：对行政处罚决定不服的，可在收到决定书之日起60日内申请行政复议，或6个月内提起行政诉讼。",
    ),
    (
        LegalChannel::InformationDisclosure,
        "要求公开征收补偿方案全部文件",
        "来电人要求热线提供其房屋所在片区征收补偿方案的全部内部文件。",
        "已告知来电人：可向作出征收决定的区政府依法申请政府信息公开，并告知申请方式。",
    ),
    (
        LegalChannel::Petition,
        "反映多年前拆迁安置问题要求重新处理",
        "来电人对二十年前的拆迁安置结果不满，已经信访程序处理终结，仍要求重新处理。",
        "该事项已经信访程序处理终结，已向来电人做好解释，告知依法按信访渠道反映。",
    ),
];

/// Fills the placeholders of a special text (transfers, rejections).
pub(crate) fn special(rng: &mut StdRng, text: &str, place: &Place) -> String {
    let estate = pick(rng, ESTATES);
    let building = rng.random_range(1..30);
    fill(rng, text, place, estate, building)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn stories_fill_every_placeholder() {
        let mut rng = StdRng::seed_from_u64(7);
        let place = Place {
            district: "澜湖区".into(),
            street: "湖滨街道".into(),
            community: "柳岸社区".into(),
        };
        for t in TEMPLATES.iter().chain(PUBLIC) {
            for _ in 0..4 {
                let story = compose(&mut rng, t.code, "x", &place, Channel::Phone, true);
                for text in [&story.title, &story.content, &story.reply] {
                    assert!(
                        !text.contains('{') && !text.contains('}'),
                        "{}: {text}",
                        t.code
                    );
                }
                assert!(t.types.contains(&story.order_type));
            }
        }
        let c = caller(&mut rng, true, false);
        assert_eq!(c.phone.len(), 11);
        assert!(c.tags.contains(&CallerTag::Elderly));
    }

    /// How the texts were filled before the one pass: a `replace` per placeholder, in turn.
    fn fill_by_replacing(
        rng: &mut StdRng,
        text: &str,
        place: &Place,
        estate: &str,
        building: u32,
    ) -> String {
        let road = if rng.random_bool(0.5) {
            format!("{}与{}交叉口", pick(rng, ROADS), pick(rng, ROADS))
        } else {
            format!("{}{}号附近", pick(rng, ROADS), rng.random_range(1..400))
        };
        let address = format!("{}{}{estate}{building}号楼", place.street, place.community);
        text.replace("{addr}", &address)
            .replace("{xq}", estate)
            .replace("{road}", &road)
            .replace("{time}", pick(rng, TIMES))
            .replace("{days}", &rng.random_range(2..9).to_string())
            .replace("{shop}", pick(rng, SHOPS))
            .replace("{company}", pick(rng, COMPANIES))
            .replace("{n}", &rng.random_range(2..6).to_string())
            .replace("{district}", &place.district)
    }

    #[test]
    fn one_pass_fills_every_text_as_the_replaces_did_from_the_same_draws() {
        let place = Place {
            district: "澜湖区".into(),
            street: "湖滨街道".into(),
            community: "柳岸社区".into(),
        };
        let mut texts: Vec<&str> = vec!["{unknown}与{xq", "{", "}{n}{{n}}", ""];
        for t in TEMPLATES.iter().chain(PUBLIC) {
            texts.extend(t.titles.iter().chain(t.bodies).copied());
            texts.push(t.reply);
        }
        texts.extend(TRANSFERS.iter().flat_map(|(_, a, b)| [*a, *b]));
        texts.extend(REJECTIONS.iter().flat_map(|(_, a, b, c)| [*a, *b, *c]));
        for (seed, text) in texts.iter().enumerate() {
            let mut one_pass = StdRng::seed_from_u64(seed as u64);
            let mut replacing = StdRng::seed_from_u64(seed as u64);
            assert_eq!(
                fill(&mut one_pass, text, &place, "幸福里", 3),
                fill_by_replacing(&mut replacing, text, &place, "幸福里", 3),
                "{text}"
            );
            // The same draws, so the rest of the city is the same too.
            assert_eq!(
                one_pass.random::<u64>(),
                replacing.random::<u64>(),
                "{text}"
            );
        }
    }
}
