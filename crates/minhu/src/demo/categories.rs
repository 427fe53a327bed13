//! The demo category tree (问题分类, codes `01` / `0101` / `010101` / `01010101`), its time-limit
//! policies and the dispatch catalogue (派单目录).

use std::collections::BTreeMap;

use minhu_domain::{LimitStep, OrderType, TimeLimit, Urgency};

use super::units::City;
use crate::service::{App, AppError, AppResult};
use crate::storage::{Category, NewCatalogueEntry, NewCategory, NewPolicyRule};

/// The tree, parents before children; a node's parent is the node whose code is its code minus
/// the last two digits.
const TREE: &[(&str, &str)] = &[
    ("01", "水务"),
    ("0101", "供水"),
    ("010101", "停水"),
    ("010102", "水压低"),
    ("010103", "水质浑浊"),
    ("010104", "管道漏水"),
    ("010105", "水表故障"),
    ("010106", "水费缴纳"),
    ("0102", "排水"),
    ("010201", "下水道堵塞"),
    ("010202", "污水外溢"),
    ("010203", "道路积水"),
    ("02", "供电"),
    ("0201", "供电故障"),
    ("020101", "停电"),
    ("020102", "电压不稳"),
    ("020103", "线路老化"),
    ("0202", "用电服务"),
    ("020201", "电费咨询"),
    ("020202", "新装增容"),
    ("03", "燃气"),
    ("0301", "燃气安全"),
    ("030101", "燃气泄漏"),
    ("030102", "燃气管道隐患"),
    ("0302", "燃气服务"),
    ("030201", "停气"),
    ("030202", "燃气缴费"),
    ("030203", "燃气表故障"),
    ("030204", "开通点火"),
    ("04", "供热"),
    ("0401", "供热质量"),
    ("040101", "暖气不热"),
    ("040102", "暖气漏水"),
    ("0402", "供热服务"),
    ("040201", "供热缴费"),
    ("040202", "报停与开栓"),
    ("05", "城市管理"),
    ("0501", "市政设施"),
    ("050101", "路灯"),
    ("05010101", "路灯不亮"),
    ("05010102", "路灯白天不灭"),
    ("050102", "井盖缺失"),
    ("050103", "道路破损"),
    ("050104", "人行道破损"),
    ("0502", "市容环境"),
    ("050201", "占道经营"),
    ("050202", "垃圾清运不及时"),
    ("050203", "违规张贴小广告"),
    ("050204", "渣土撒漏"),
    ("0503", "违法建设"),
    ("050301", "违章搭建"),
    ("0504", "噪音扰民"),
    ("050401", "施工噪音扰民"),
    ("050402", "商铺噪音扰民"),
    ("050403", "广场舞噪音扰民"),
    ("06", "住房城乡建设"),
    ("0601", "物业管理"),
    ("060101", "电梯故障"),
    ("060102", "物业服务质量"),
    ("060103", "物业收费"),
    ("060104", "小区停车"),
    ("0602", "房屋安全"),
    ("060201", "房屋漏水"),
    ("060202", "老旧小区改造"),
    ("0603", "房地产市场"),
    ("060301", "不动产证办理"),
    ("060302", "商品房延期交付"),
    ("0604", "住房公积金"),
    ("060401", "公积金提取"),
    ("07", "交通运输"),
    ("0701", "公共交通"),
    ("070101", "公交线路调整"),
    ("070102", "公交司机服务"),
    ("070103", "公交站点设置"),
    ("0702", "出租车网约车"),
    ("070201", "出租车拒载绕路"),
    ("070202", "网约车服务"),
    ("08", "市场监管"),
    ("0801", "食品安全"),
    ("080101", "餐饮卫生"),
    ("080102", "过期变质食品"),
    ("0802", "消费维权"),
    ("080201", "预付卡退费"),
    ("080202", "商品质量"),
    ("080203", "价格欺诈"),
    ("09", "人力资源和社会保障"),
    ("0901", "劳动关系"),
    ("090101", "拖欠工资"),
    ("09010101", "拖欠农民工工资"),
    ("09010102", "拖欠企业职工工资"),
    ("090102", "劳动合同纠纷"),
    ("0902", "社会保险"),
    ("090201", "养老保险咨询"),
    ("090202", "社保关系转移"),
    ("090203", "失业保险金"),
    ("0903", "就业创业"),
    ("090301", "就业补贴"),
    ("10", "教育"),
    ("1001", "招生入学"),
    ("100101", "入学政策咨询"),
    ("100102", "学区划分"),
    ("1002", "校外培训"),
    ("100201", "培训机构退费"),
    ("1003", "校园管理"),
    ("100301", "校园周边安全"),
    ("11", "卫生健康"),
    ("1101", "医疗服务"),
    ("110101", "医疗服务态度"),
    ("110102", "挂号难"),
    ("1102", "公共卫生"),
    ("110201", "疫苗接种咨询"),
    ("1103", "医疗保障"),
    ("110301", "医保报销"),
    ("12", "生态环境"),
    ("1201", "大气污染"),
    ("120101", "餐饮油烟"),
    ("120102", "工业废气"),
    ("1202", "水污染"),
    ("120201", "河道污染"),
    ("13", "公安"),
    ("1301", "户政管理"),
    ("130101", "户口迁移"),
    ("130102", "身份证办理"),
    ("1302", "交通管理"),
    ("130201", "违章停车"),
    ("130202", "信号灯故障"),
    ("1303", "出入境"),
    ("130301", "护照办理"),
    ("14", "民政"),
    ("1401", "社会救助"),
    ("140101", "低保申请"),
    ("1402", "养老服务"),
    ("140201", "高龄津贴"),
    ("140202", "养老机构服务"),
    ("15", "自然资源和规划"),
    ("1501", "规划管理"),
    ("150101", "规划公示咨询"),
    ("16", "园林绿化"),
    ("1601", "绿化养护"),
    ("160101", "树木修剪"),
    ("160102", "绿地损毁"),
    ("17", "文化旅游"),
    ("1701", "旅游市场"),
    ("170101", "旅游投诉"),
    ("170102", "景区服务"),
    ("18", "税务"),
    ("1801", "税费服务"),
    ("180101", "发票开具"),
    ("180102", "个税汇算"),
    ("19", "农业农村"),
    ("1901", "农村管理"),
    ("190101", "农资质量"),
    ("190102", "土地承包"),
    ("20", "应急管理"),
    ("2001", "安全生产"),
    ("200101", "安全生产隐患"),
    ("200102", "消防通道堵塞"),
    ("21", "综合"),
    ("2101", "其他事项"),
    ("210101", "其他诉求"),
    ("210102", "表扬感谢"),
    ("210103", "意见建议"),
];

/// A policy on a category: the step, an optional type and urgency, the limit.
type PolicySpec = (
    &'static str,
    LimitStep,
    Option<OrderType>,
    Option<Urgency>,
    TimeLimit,
);

/// Realistic category policies on top of the global defaults (PRODUCT.md §4).
const POLICIES: &[PolicySpec] = &[
    // 水电气热: dispatch within 2 natural hours.
    (
        "01",
        LimitStep::Dispatch,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    (
        "02",
        LimitStep::Dispatch,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    (
        "03",
        LimitStep::Dispatch,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    (
        "04",
        LimitStep::Dispatch,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    // Outages: sign within 2 hours, handle within 24 hours.
    (
        "010101",
        LimitStep::Sign,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    (
        "010101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::natural_hours(24),
    ),
    (
        "020101",
        LimitStep::Sign,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    (
        "020101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::natural_hours(24),
    ),
    (
        "030201",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::natural_hours(24),
    ),
    // 燃气泄漏: treated like an emergency whatever the urgency recorded.
    (
        "030101",
        LimitStep::Dispatch,
        None,
        None,
        TimeLimit::natural_hours(1),
    ),
    (
        "030101",
        LimitStep::Sign,
        None,
        None,
        TimeLimit::natural_hours(1),
    ),
    (
        "030101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::natural_hours(2),
    ),
    // 暖气不热 in the heating season: 3 working days.
    (
        "040101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::working_days(3),
    ),
    // 电梯故障: 2 working days.
    (
        "060101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::working_days(2),
    ),
    // 井盖缺失 is a hazard: 24 hours.
    (
        "050102",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::natural_hours(24),
    ),
    // Consultations answered faster in some areas.
    (
        "090201",
        LimitStep::Handle,
        Some(OrderType::Consultation),
        None,
        TimeLimit::working_days(1),
    ),
    (
        "100101",
        LimitStep::Handle,
        Some(OrderType::Consultation),
        None,
        TimeLimit::working_hours(8),
    ),
    (
        "180102",
        LimitStep::Handle,
        Some(OrderType::Consultation),
        None,
        TimeLimit::working_days(1),
    ),
    // Unpaid migrant workers' wages: 5 working days (根治欠薪).
    (
        "09010101",
        LimitStep::Handle,
        None,
        None,
        TimeLimit::working_days(5),
    ),
    // 违章搭建 complaints take investigation: 20 working days.
    (
        "050301",
        LimitStep::Handle,
        Some(OrderType::Complaint),
        None,
        TimeLimit::working_days(20),
    ),
];

/// Where the dispatch catalogue sends a category: a bureau or company city-wide, or the district
/// sub-centre of the order's district.
#[derive(Debug, Clone, Copy)]
enum Route {
    Agency(&'static str),
    District,
}

const CATALOGUE: &[(&str, Route)] = &[
    ("01", Route::Agency("water")),
    ("0102", Route::District),
    ("02", Route::Agency("power")),
    ("03", Route::Agency("gas")),
    ("04", Route::Agency("heat")),
    ("05", Route::District),
    ("050301", Route::District),
    ("06", Route::Agency("zj")),
    ("0601", Route::District),
    ("0604", Route::Agency("gjj")),
    ("07", Route::Agency("jt")),
    ("0701", Route::Agency("bus")),
    ("08", Route::Agency("sj")),
    ("09", Route::Agency("rs")),
    ("10", Route::Agency("jy")),
    ("11", Route::Agency("wj")),
    ("1103", Route::Agency("yb")),
    ("12", Route::Agency("hb")),
    ("13", Route::Agency("ga")),
    ("14", Route::Agency("mz")),
    ("15", Route::Agency("zr")),
    ("16", Route::Agency("yl")),
    ("17", Route::Agency("wl")),
    ("18", Route::Agency("sw")),
    ("19", Route::Agency("nn")),
    ("20", Route::Agency("yj")),
    ("21", Route::District),
];

/// The created tree.
#[derive(Debug, Clone)]
pub(super) struct Categories {
    /// Every node by code.
    pub by_code: BTreeMap<&'static str, Category>,
    /// Codes of the leaves, in tree order.
    pub leaves: Vec<&'static str>,
}

impl Categories {
    /// The node with this code (a constant of the demo data; a miss is reported, not a panic).
    pub fn get(&self, code: &str) -> AppResult<&Category> {
        self.by_code
            .get(code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo category `{code}` is missing")))
    }

    /// The name of the node with this code, or the code itself.
    pub fn name(&self, code: &str) -> String {
        self.by_code
            .get(code)
            .map_or_else(|| code.to_owned(), |c| c.name.clone())
    }
}

fn parent_code(code: &str) -> Option<&str> {
    code.len()
        .checked_sub(2)
        .filter(|n| *n > 0)
        .and_then(|n| code.get(..n))
}

/// The codes of the tree's leaves, in tree order.
pub(super) fn leaf_codes() -> Vec<&'static str> {
    TREE.iter()
        .map(|(code, _)| *code)
        .filter(|code| {
            !TREE
                .iter()
                .any(|(other, _)| parent_code(other) == Some(code))
        })
        .collect()
}

/// Creates the category tree.
pub(super) async fn create_categories(app: &App) -> AppResult<Categories> {
    let mut by_code: BTreeMap<&'static str, Category> = BTreeMap::new();
    for (code, name) in TREE {
        let parent_id = match parent_code(code) {
            Some(parent) => Some(by_code.get(parent).map(|c| c.id).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("demo category {code} before its parent"))
            })?),
            None => None,
        };
        let created = app
            .store
            .create_category(&NewCategory {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                parent_id,
            })
            .await?;
        by_code.insert(code, created);
    }
    Ok(Categories {
        by_code,
        leaves: leaf_codes(),
    })
}

/// Stores the category policies; returns how many.
pub(super) async fn create_policies(app: &App, categories: &Categories) -> AppResult<usize> {
    for (code, step, order_type, urgency, limit) in POLICIES {
        app.store
            .create_policy(&NewPolicyRule {
                category_id: Some(categories.get(code)?.id),
                order_type: *order_type,
                urgency: *urgency,
                step: *step,
                limit: *limit,
            })
            .await?;
    }
    Ok(POLICIES.len())
}

/// Stores the dispatch catalogue; returns how many entries.
pub(super) async fn create_catalogue(
    app: &App,
    categories: &Categories,
    city: &City,
) -> AppResult<usize> {
    let mut count = 0;
    for (code, route) in CATALOGUE {
        let category_id = categories.get(code)?.id;
        let name = categories.name(code);
        match route {
            Route::Agency(key) => {
                let unit = city.agency(key)?;
                app.store
                    .create_catalogue_entry(&NewCatalogueEntry {
                        category_id,
                        district_id: None,
                        unit_id: unit.id,
                        note: Some(format!("{name}事项全市由{}承办", unit.name)),
                    })
                    .await?;
                count += 1;
            }
            Route::District => {
                for district in &city.districts {
                    app.store
                        .create_catalogue_entry(&NewCatalogueEntry {
                            category_id,
                            district_id: Some(district.unit.id),
                            unit_id: district.unit.id,
                            note: Some(format!(
                                "属地管理：{name}事项由{}分中心承办",
                                district.unit.name
                            )),
                        })
                        .await?;
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_well_formed() {
        let codes: Vec<&str> = TREE.iter().map(|(c, _)| *c).collect();
        for (i, code) in codes.iter().enumerate() {
            assert!(matches!(code.len(), 2 | 4 | 6 | 8), "{code}");
            assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
            assert!(!codes[..i].contains(code), "duplicate {code}");
            if let Some(parent) = parent_code(code) {
                assert!(codes[..i].contains(&parent), "{code} before {parent}");
            }
        }
        let leaves = codes
            .iter()
            .filter(|code| !codes.iter().any(|o| parent_code(o) == Some(**code)))
            .count();
        assert!(leaves >= 60, "{leaves} leaves");
        for (code, ..) in POLICIES {
            assert!(codes.contains(code), "policy on unknown {code}");
        }
        for (code, _) in CATALOGUE {
            assert!(codes.contains(code), "catalogue on unknown {code}");
        }
    }
}
