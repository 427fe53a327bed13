//! The words of generated orders: the demo's stories per leaf category (which carry the signal —
//! a gas smell reads differently from a noise complaint), varied here with invented roads and
//! house numbers, dates and hours, the caller's own phrasing, storm context and the typos of a
//! hurried agent.

use minhu_domain::{Channel, OrderType};
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::demo::texts::{self as demo_texts, Place, Story};

/// Invented road names (besides the demo's), for addresses and text.
const ROAD_STEMS: &[&str] = &[
    "云澜", "青石", "柳河", "澜湖", "云港", "松岭", "白鹭", "桂花", "银杏", "梧桐", "凤凰", "锦江",
    "望江", "临湖", "翠微", "香樟", "枫桥", "迎宾", "振兴", "兴业", "育才", "康宁", "安居", "富民",
];
const ROAD_KINDS: &[&str] = &[
    "路", "街", "大道", "巷", "东路", "西路", "南路", "北路", "支路",
];
const SPOTS: &[&str] = &[
    "公交站旁",
    "菜市场门口",
    "小学东侧",
    "十字路口",
    "地铁口附近",
    "加油站对面",
    "医院后门",
    "桥下",
    "停车场入口",
    "商场北门",
];
const CALLER_PHRASES: &[&str] = &[
    "",
    "",
    "",
    "市民称，",
    "据来电人讲，",
    "来电人情绪比较激动，称",
    "来电人表示，",
    "来电人再次来电，",
    "市民反映称，",
];
const EXTRA_ASKS: &[&str] = &[
    "",
    "",
    "请尽快派人到现场查看。",
    "要求给个明确答复。",
    "希望相关部门尽快解决，谢谢。",
    "之前打过电话，至今没人处理。",
    "来电人要求办理结果电话回复。",
    "来电人希望不要透露其个人信息。",
];
/// Parts of the day with the hours (on a 12-hour clock) people name in them.
const DATE_HOURS: &[(&str, u32, u32)] = &[
    ("凌晨", 1, 5),
    ("早上", 6, 8),
    ("上午", 8, 11),
    ("中午", 12, 12),
    ("下午", 2, 5),
    ("傍晚", 5, 6),
    ("晚上", 7, 11),
];
/// Common slips of a hurried typist: (right, wrong).
const TYPOS: &[(&str, &str)] = &[
    ("的", "得"),
    ("在", "再"),
    ("已经", "以经"),
    ("反映", "反应"),
    ("哪里", "那里"),
    ("做", "作"),
    ("暖气", "暖汽"),
    ("噪音", "燥音"),
    ("小区", "小曲"),
    ("希望", "希忘"),
];

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// An invented road with a house number, e.g. `桂花东路128号`.
pub fn road_address(rng: &mut StdRng) -> String {
    format!(
        "{}{}{}号",
        pick(rng, ROAD_STEMS),
        pick(rng, ROAD_KINDS),
        rng.random_range(1..600)
    )
}

/// The words of one generated order.
pub struct Words {
    pub title: String,
    pub content: String,
    pub address: String,
    pub reply: String,
    pub story: Story,
}

/// Composes the words of an order of leaf `code` at `place`, with variation.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    rng: &mut StdRng,
    code: &str,
    leaf_name: &str,
    place: &Place,
    channel: Channel,
    elderly: bool,
    storm: bool,
    month: u32,
) -> Words {
    let story = demo_texts::compose(rng, code, leaf_name, place, channel, elderly);
    let mut address = story.address.clone();
    if rng.random_bool(0.35) {
        // Streets and roads rather than an estate: an invented road and a landmark.
        address = format!(
            "{}{}{}{}",
            place.district,
            place.street,
            road_address(rng),
            pick(rng, SPOTS)
        );
    }
    let mut content = story.content.clone();
    let phrase = pick(rng, CALLER_PHRASES);
    if !phrase.is_empty()
        && let Some((head, tail)) = content.split_once('：')
    {
        content = format!("{head}：{phrase}{tail}");
    }
    let consultation = story.order_type == OrderType::Consultation;
    if !consultation
        && rng.random_bool(0.3)
        && let Some((part, low, high)) = DATE_HOURS.choose(rng)
    {
        let when = format!(
            "（{}月{}日{}{}点左右）",
            month,
            rng.random_range(1..29),
            part,
            rng.random_range(*low..=*high)
        );
        content.push_str(&when);
    }
    if storm && (code.starts_with("0102") || code.starts_with("0201")) {
        content.push_str("昨晚暴雨过后情况更加严重。");
    }
    if !consultation {
        if rng.random_bool(0.4) {
            content.push_str(&format!("具体位置：{}。", road_address(rng)));
        }
        content.push_str(pick(rng, EXTRA_ASKS));
    }
    if rng.random_bool(0.08) {
        content = typo(rng, &content);
    }
    let mut title = story.title.clone();
    if rng.random_bool(0.03) {
        title = typo(rng, &title);
    }
    Words {
        title,
        content,
        address,
        reply: story.reply.clone(),
        story,
    }
}

/// One slip of the pen, if the text has a word to slip on.
fn typo(rng: &mut StdRng, text: &str) -> String {
    let candidates: Vec<&(&str, &str)> = TYPOS.iter().filter(|(r, _)| text.contains(r)).collect();
    match candidates.choose(rng) {
        Some((right, wrong)) => text.replacen(right, wrong, 1),
        None => text.to_owned(),
    }
}

/// Reasons a unit gives for more time.
pub const EXTENSION_REASONS: &[&str] = &[
    "需协调多个部门现场会商，申请延期",
    "涉及管网改造，需等待施工窗口期",
    "当事人联系不上，需进一步核实",
    "需第三方检测机构出具报告",
];

/// Notes of supervisors who urge a unit.
pub const URGE_NOTES: &[&str] = &[
    "市民多次来电催促，请加快办理",
    "即将超期，请抓紧办理并及时反馈",
    "请承办单位高度重视，尽快联系来电人",
];

/// Why a review sends a reply back.
pub const REVIEW_FAILURES: &[&str] = &[
    "答复内容过于简单，未说明处理结果，请补充",
    "未联系来电人核实，请重新办理后答复",
    "答复与诉求不对应，请核实后重新答复",
];

/// A follow-up note of a unit working again on a redone order.
pub const REDO_REPLIES: &[&str] = &[
    "经再次核实，我单位已重新安排人员到现场处理，问题已解决，并与来电人当面沟通。",
    "重办后已联系来电人，现场复查确认问题已整改完毕，来电人表示认可。",
];

/// Why a unit asks to give an order back.
pub const RETURN_REASONS: &[&str] = &[
    "该事项不属于我单位职责范围，建议改派属地街道",
    "经现场核实，涉事设施产权不在我单位，申请退回",
    "诉求地址不在我单位辖区，请重新派单",
];
