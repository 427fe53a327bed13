//! The organisation of the demo city: districts with streets and communities (each district and
//! street a dispatch point), and the city's bureaus and public-service companies.

use std::collections::BTreeMap;

use minhu_domain::{UnitInfo, UnitKind};

use crate::service::{App, AppResult};
use crate::storage::NewUnit;

/// One district (or county): its name and its streets/townships with their communities/villages.
struct DistrictSpec {
    name: &'static str,
    streets: &'static [(&'static str, &'static [&'static str])],
}

const DISTRICTS: &[DistrictSpec] = &[
    DistrictSpec {
        name: "澜湖区",
        streets: &[
            ("湖滨街道", &["湖滨社区", "柳岸社区", "金沙社区"]),
            (
                "南门街道",
                &["南门社区", "文庙社区", "鼓楼社区", "学前社区"],
            ),
            ("东关街道", &["东关社区", "粮仓社区"]),
            ("清波街道", &["清波社区", "涌金社区", "荷花社区"]),
        ],
    },
    DistrictSpec {
        name: "云港区",
        streets: &[
            ("港湾街道", &["港湾社区", "渔港社区", "海韵社区"]),
            ("新港街道", &["新港社区", "船坞社区"]),
            ("临港街道", &["临港社区", "海关社区", "望海社区"]),
            ("云帆街道", &["云帆社区", "远航社区", "灯塔社区"]),
        ],
    },
    DistrictSpec {
        name: "青石区",
        streets: &[
            ("青石街道", &["青石社区", "石桥社区", "石板巷社区"]),
            ("北山街道", &["北山社区", "松涛社区"]),
            ("红旗街道", &["红旗社区", "工人村社区", "机械厂社区"]),
        ],
    },
    DistrictSpec {
        name: "望江区",
        streets: &[
            ("望江街道", &["望江社区", "江月社区", "江畔社区"]),
            ("沿江街道", &["沿江社区", "渡口社区"]),
            (
                "锦绣街道",
                &["锦绣社区", "华庭社区", "锦苑社区", "绿洲社区"],
            ),
            ("东湖街道", &["东湖社区", "湖光社区"]),
            ("白鹭洲街道", &["白鹭社区", "鹭岛社区"]),
        ],
    },
    DistrictSpec {
        name: "松岭区",
        streets: &[
            ("松岭街道", &["松岭社区", "岭南社区"]),
            ("桃源街道", &["桃源社区", "桃花坞社区", "杏林社区"]),
            ("松岭镇", &["松岭村", "马家庄村", "下河村"]),
        ],
    },
    DistrictSpec {
        name: "高新区",
        streets: &[
            ("创新街道", &["创新社区", "科苑社区", "智谷社区"]),
            ("软件园街道", &["软件园社区", "数码社区"]),
            ("未来城街道", &["未来城社区", "星河社区", "云谷社区"]),
        ],
    },
    DistrictSpec {
        name: "柳河县",
        streets: &[
            ("柳河镇", &["柳河社区", "西关村", "东营村"]),
            ("石门乡", &["石门村", "上石门村"]),
            ("双河镇", &["双河村", "前进村", "王家湾村", "杨树沟村"]),
        ],
    },
];

/// A bureau or company: the key the demo refers to it by, its code, name and kind.
pub(super) struct AgencySpec {
    pub key: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub kind: UnitKind,
}

const fn agency(
    key: &'static str,
    code: &'static str,
    name: &'static str,
    kind: UnitKind,
) -> AgencySpec {
    AgencySpec {
        key,
        code,
        name,
        kind,
    }
}

/// The city's handling units besides the districts.
pub(super) const AGENCIES: &[AgencySpec] = &[
    agency("water", "E-WATER", "云澜市水务集团", UnitKind::Enterprise),
    agency(
        "power",
        "E-POWER",
        "国网云澜市供电公司",
        UnitKind::Enterprise,
    ),
    agency("gas", "E-GAS", "云澜市燃气集团", UnitKind::Enterprise),
    agency("heat", "E-HEAT", "云澜市热力公司", UnitKind::Enterprise),
    agency("bus", "E-BUS", "云澜市公共交通集团", UnitKind::Enterprise),
    agency("cg", "B-CG", "云澜市城市管理局", UnitKind::Bureau),
    agency("zj", "B-ZJ", "云澜市住房和城乡建设局", UnitKind::Bureau),
    agency("jt", "B-JT", "云澜市交通运输局", UnitKind::Bureau),
    agency("sj", "B-SJ", "云澜市市场监督管理局", UnitKind::Bureau),
    agency("rs", "B-RS", "云澜市人力资源和社会保障局", UnitKind::Bureau),
    agency("jy", "B-JY", "云澜市教育局", UnitKind::Bureau),
    agency("wj", "B-WJ", "云澜市卫生健康委员会", UnitKind::Bureau),
    agency("hb", "B-HB", "云澜市生态环境局", UnitKind::Bureau),
    agency("ga", "B-GA", "云澜市公安局", UnitKind::Bureau),
    agency("mz", "B-MZ", "云澜市民政局", UnitKind::Bureau),
    agency("zr", "B-ZR", "云澜市自然资源和规划局", UnitKind::Bureau),
    agency("yl", "B-YL", "云澜市园林绿化局", UnitKind::Bureau),
    agency("wl", "B-WL", "云澜市文化和旅游局", UnitKind::Bureau),
    agency("yb", "B-YB", "云澜市医疗保障局", UnitKind::Bureau),
    agency("sw", "B-SW", "国家税务总局云澜市税务局", UnitKind::Bureau),
    agency("nn", "B-NN", "云澜市农业农村局", UnitKind::Bureau),
    agency("yj", "B-YJ", "云澜市应急管理局", UnitKind::Bureau),
    agency("gjj", "O-GJJ", "云澜市住房公积金管理中心", UnitKind::Other),
];

/// How many districts (and counties) the demo city has.
pub(super) const DISTRICT_COUNT: usize = DISTRICTS.len();

/// A street or township with its communities or villages.
#[derive(Debug, Clone)]
pub(super) struct Street {
    pub unit: UnitInfo,
    pub communities: Vec<UnitInfo>,
}

/// A district sub-centre with its streets.
#[derive(Debug, Clone)]
pub(super) struct District {
    pub unit: UnitInfo,
    pub streets: Vec<Street>,
}

/// The created organisation.
#[derive(Debug, Clone)]
pub(super) struct City {
    pub centre: UnitInfo,
    pub districts: Vec<District>,
    /// Bureaus and companies by their demo key (`water`, `gas`, `cg`, …).
    pub agencies: BTreeMap<&'static str, UnitInfo>,
}

impl City {
    /// The agency with this key. The keys are the constants above, so a miss is a bug in the
    /// demo data; it is reported rather than panicking.
    pub fn agency(&self, key: &str) -> AppResult<&UnitInfo> {
        self.agencies.get(key).ok_or_else(|| {
            crate::service::AppError::Internal(anyhow::anyhow!("demo agency `{key}` is missing"))
        })
    }

    /// Number of streets and townships.
    pub fn street_count(&self) -> usize {
        self.districts.iter().map(|d| d.streets.len()).sum()
    }

    /// Number of communities and villages.
    pub fn community_count(&self) -> usize {
        self.districts
            .iter()
            .flat_map(|d| &d.streets)
            .map(|s| s.communities.len())
            .sum()
    }
}

async fn unit(
    app: &App,
    code: String,
    name: &str,
    kind: UnitKind,
    parent: &UnitInfo,
    is_dispatch_point: bool,
) -> AppResult<UnitInfo> {
    Ok(app
        .store
        .create_unit(&NewUnit {
            code,
            name: name.to_owned(),
            kind,
            parent_id: Some(parent.id),
            is_dispatch_point,
        })
        .await?)
}

/// Creates the districts, streets, communities, bureaus and companies under the centre.
pub(super) async fn create_city(app: &App, centre: UnitInfo) -> AppResult<City> {
    let mut districts = Vec::new();
    for (d, spec) in DISTRICTS.iter().enumerate() {
        let code = format!("D{:02}", d + 1);
        let district_unit = unit(
            app,
            code.clone(),
            spec.name,
            UnitKind::DistrictCentre,
            &centre,
            true,
        )
        .await?;
        let mut streets = Vec::new();
        for (s, (street_name, communities)) in spec.streets.iter().enumerate() {
            let street_code = format!("{code}-S{:02}", s + 1);
            let street_unit = unit(
                app,
                street_code.clone(),
                street_name,
                UnitKind::Street,
                &district_unit,
                true,
            )
            .await?;
            let mut community_units = Vec::new();
            for (c, community_name) in communities.iter().enumerate() {
                community_units.push(
                    unit(
                        app,
                        format!("{street_code}-C{:02}", c + 1),
                        community_name,
                        UnitKind::Community,
                        &street_unit,
                        false,
                    )
                    .await?,
                );
            }
            streets.push(Street {
                unit: street_unit,
                communities: community_units,
            });
        }
        districts.push(District {
            unit: district_unit,
            streets,
        });
    }
    let mut agencies = BTreeMap::new();
    for spec in AGENCIES {
        let created = unit(
            app,
            spec.code.to_owned(),
            spec.name,
            spec.kind,
            &centre,
            false,
        )
        .await?;
        agencies.insert(spec.key, created);
    }
    Ok(City {
        centre,
        districts,
        agencies,
    })
}
