//! The public figures and names the Shenzhen city map is drawn from, in one table
//! (maps/README.md says where each comes from): the ten districts with their
//! population and area, their real subdistricts, their primary-care groups' lead
//! hospitals and other public hospitals, an illustrative city outline and the
//! no-fly zones.

/// What kind of lab a hospital has, which sets its analyzers (`sites::lab_analyzers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LabKind {
    /// Leads a primary-care group: the HQ lab that serves its centres.
    Lead,
    /// A large municipal or university hospital: every family, two lines of the busy ones.
    Large,
    /// A district general hospital: every family, one line each.
    General,
    /// Maternal and child health, children's: no HbA1c (as Longhua's MCH lab).
    Maternal,
    /// Traditional Chinese medicine: every family, smaller lines than a general hospital's.
    Tcm,
    /// Rehabilitation, geriatrics, orthopaedics, eye, ENT, mental health: blood counts,
    /// chemistry and coagulation only.
    Specialty,
}

/// A public hospital's lab: (id suffix, name, 中文, kind).
pub(super) type Hospital = (&'static str, &'static str, &'static str, LabKind);

/// A district: its figures, subdistricts and hospitals.
pub(super) struct DistrictFacts {
    /// Two-letter code, the prefix of its ids.
    pub code: &'static str,
    pub name: &'static str,
    pub name_zh: &'static str,
    /// Resident population, 2020 census, rounded to the thousand.
    pub population: u64,
    /// Land area in the city's statistics, km².
    pub area_km2: f64,
    /// Where its outline's site sits (lon, lat): roughly its centre.
    pub site: (f64, f64),
    /// Centres fixed by a seed fact (Longhua 125, Luohu's group 34); else by population.
    pub centres: Option<usize>,
    /// Its subdistricts (街道): (pinyin, 中文).
    pub subdistricts: &'static [(&'static str, &'static str)],
    /// Its hospitals' labs, group leads first.
    pub hospitals: &'static [Hospital],
}

use LabKind::*;

/// The ten districts. Longhua's outline, subdistricts, centres and first three labs
/// come from the Longhua data set (`generate_longhua`), so its entry lists only the
/// subdistrict names for completeness.
pub(super) const DISTRICTS: [DistrictFacts; 10] = [
    DistrictFacts {
        code: "FT",
        name: "Futian",
        name_zh: "福田区",
        population: 1_553_000,
        area_km2: 78.66,
        site: (114.055, 22.545),
        centres: None,
        subdistricts: &[
            ("Yuanling", "园岭"),
            ("Nanyuan", "南园"),
            ("Futian", "福田"),
            ("Shatou", "沙头"),
            ("Xiangmihu", "香蜜湖"),
            ("Meilin", "梅林"),
            ("Lianhua", "莲花"),
            ("Huafu", "华富"),
            ("Fubao", "福保"),
            ("Huaqiangbei", "华强北"),
        ],
        hospitals: &[
            (
                "PH",
                "Futian District People's Hospital",
                "福田区人民医院",
                Lead,
            ),
            (
                "PKU",
                "Peking University Shenzhen Hospital",
                "北京大学深圳医院",
                Large,
            ),
            (
                "SZ2",
                "Shenzhen Second People's Hospital",
                "深圳市第二人民医院",
                Large,
            ),
            (
                "HKU",
                "The University of Hong Kong-Shenzhen Hospital",
                "香港大学深圳医院",
                Large,
            ),
            (
                "SYSU8",
                "The Eighth Affiliated Hospital, Sun Yat-sen University",
                "中山大学附属第八医院",
                General,
            ),
            (
                "CHILD",
                "Shenzhen Children's Hospital",
                "深圳市儿童医院",
                Maternal,
            ),
            (
                "SZMCH",
                "Shenzhen Maternity and Child Healthcare Hospital",
                "深圳市妇幼保健院",
                Maternal,
            ),
            (
                "SZTCM",
                "Shenzhen Traditional Chinese Medicine Hospital",
                "深圳市中医院",
                Tcm,
            ),
            (
                "PH2",
                "Futian District Second People's Hospital",
                "福田区第二人民医院",
                General,
            ),
            (
                "MCH",
                "Futian District Maternal and Child Health Hospital",
                "福田区妇幼保健院",
                Maternal,
            ),
            (
                "TCM",
                "Futian District Hospital of Traditional Chinese Medicine",
                "福田区中医院",
                Tcm,
            ),
            ("EYE", "Shenzhen Eye Hospital", "深圳市眼科医院", Specialty),
            (
                "GZUCM",
                "Shenzhen Hospital of Guangzhou University of Chinese Medicine (Futian)",
                "广州中医药大学深圳医院（福田）",
                Tcm,
            ),
        ],
    },
    DistrictFacts {
        code: "LU",
        name: "Luohu",
        name_zh: "罗湖区",
        population: 1_144_000,
        area_km2: 78.75,
        site: (114.140, 22.575),
        centres: Some(34),
        subdistricts: &[
            ("Guiyuan", "桂园"),
            ("Huangbei", "黄贝"),
            ("Dongmen", "东门"),
            ("Cuizhu", "翠竹"),
            ("Nanhu", "南湖"),
            ("Sungang", "笋岗"),
            ("Donghu", "东湖"),
            ("Liantang", "莲塘"),
            ("Dongxiao", "东晓"),
            ("Qingshuihe", "清水河"),
        ],
        hospitals: &[
            (
                "PH",
                "Luohu District People's Hospital",
                "罗湖区人民医院",
                Lead,
            ),
            (
                "TCM",
                "Luohu District Hospital of Traditional Chinese Medicine",
                "罗湖区中医院",
                Tcm,
            ),
            (
                "MCH",
                "Luohu District Maternal and Child Health Hospital",
                "罗湖区妇幼保健院",
                Maternal,
            ),
            (
                "REHAB",
                "Luohu District Rehabilitation Hospital",
                "罗湖区康复医院",
                Specialty,
            ),
            (
                "GER",
                "Luohu District Geriatric Hospital",
                "罗湖区医养融合老年病医院",
                Specialty,
            ),
            (
                "SZPH",
                "Shenzhen People's Hospital",
                "深圳市人民医院",
                Large,
            ),
            (
                "KN",
                "Shenzhen Kangning Hospital",
                "深圳市康宁医院",
                Specialty,
            ),
        ],
    },
    DistrictFacts {
        code: "NS",
        name: "Nanshan",
        name_zh: "南山区",
        population: 1_796_000,
        area_km2: 187.47,
        site: (113.940, 22.560),
        centres: None,
        subdistricts: &[
            ("Nantou", "南头"),
            ("Nanshan", "南山"),
            ("Shahe", "沙河"),
            ("Shekou", "蛇口"),
            ("Zhaoshang", "招商"),
            ("Yuehai", "粤海"),
            ("Taoyuan", "桃源"),
            ("Xili", "西丽"),
        ],
        hospitals: &[
            (
                "PH",
                "Nanshan District People's Hospital",
                "南山区人民医院",
                Lead,
            ),
            (
                "SK",
                "Shenzhen Qianhai Shekou Free Trade Zone Hospital",
                "深圳市前海蛇口自贸区医院",
                Lead,
            ),
            (
                "SZU",
                "Shenzhen University General Hospital",
                "深圳大学总医院",
                Large,
            ),
            (
                "SUST",
                "Southern University of Science and Technology Hospital",
                "南方科技大学医院",
                General,
            ),
            (
                "XL",
                "Nanshan District Xili People's Hospital",
                "南山区西丽人民医院",
                General,
            ),
            (
                "MCH",
                "Nanshan District Maternal and Child Health Hospital",
                "南山区妇幼保健院",
                Maternal,
            ),
            (
                "CD",
                "Nanshan District Chronic Disease Hospital",
                "南山区慢性病防治院",
                Specialty,
            ),
        ],
    },
    DistrictFacts {
        code: "YT",
        name: "Yantian",
        name_zh: "盐田区",
        population: 214_000,
        area_km2: 74.91,
        site: (114.265, 22.595),
        centres: None,
        subdistricts: &[
            ("Meisha", "梅沙"),
            ("Yantian", "盐田"),
            ("Shatoujiao", "沙头角"),
            ("Haishan", "海山"),
        ],
        hospitals: &[
            (
                "PH",
                "Yantian District People's Hospital",
                "盐田区人民医院",
                Lead,
            ),
            (
                "H2",
                "Yantian District hospital 2 (illustrative name)",
                "盐田区医院二（示意名称）",
                Specialty,
            ),
        ],
    },
    DistrictFacts {
        code: "BA",
        name: "Bao'an",
        name_zh: "宝安区",
        population: 4_477_000,
        area_km2: 396.64,
        site: (113.850, 22.700),
        centres: None,
        subdistricts: &[
            ("Xin'an", "新安"),
            ("Xixiang", "西乡"),
            ("Hangcheng", "航城"),
            ("Fuyong", "福永"),
            ("Fuhai", "福海"),
            ("Shajing", "沙井"),
            ("Xinqiao", "新桥"),
            ("Songgang", "松岗"),
            ("Yanluo", "燕罗"),
            ("Shiyan", "石岩"),
        ],
        hospitals: &[
            (
                "PH",
                "Bao'an District People's Hospital",
                "宝安区人民医院",
                Lead,
            ),
            (
                "CH",
                "Bao'an District Central Hospital",
                "宝安区中心医院",
                Lead,
            ),
            (
                "TCM",
                "Bao'an District Hospital of Traditional Chinese Medicine",
                "宝安区中医院",
                Lead,
            ),
            (
                "SJ",
                "Bao'an District Shajing People's Hospital",
                "宝安区沙井人民医院",
                Lead,
            ),
            (
                "MCH",
                "Bao'an District Maternal and Child Health Hospital",
                "宝安区妇幼保健院",
                Maternal,
            ),
            (
                "FY",
                "Bao'an District Fuyong People's Hospital",
                "宝安区福永人民医院",
                General,
            ),
            (
                "SG",
                "Bao'an District Songgang People's Hospital",
                "宝安区松岗人民医院",
                General,
            ),
            (
                "SY",
                "Bao'an District Shiyan People's Hospital",
                "宝安区石岩人民医院",
                General,
            ),
            (
                "YL",
                "Bao'an District Yanluo People's Hospital",
                "宝安区燕罗人民医院",
                General,
            ),
            (
                "SMU",
                "Shenzhen Hospital of Southern Medical University",
                "南方医科大学深圳医院",
                Large,
            ),
            (
                "ITCWM",
                "Shenzhen Hospital of Integrated Traditional Chinese and Western Medicine",
                "深圳市中西医结合医院",
                Tcm,
            ),
            (
                "PTCM",
                "Shenzhen Bao'an Pure Chinese Medicine Hospital",
                "深圳市宝安纯中医治疗医院",
                Tcm,
            ),
        ],
    },
    DistrictFacts {
        code: "LG",
        name: "Longgang",
        name_zh: "龙岗区",
        population: 3_979_000,
        area_km2: 388.21,
        site: (114.220, 22.690),
        centres: None,
        subdistricts: &[
            ("Pinghu", "平湖"),
            ("Bantian", "坂田"),
            ("Buji", "布吉"),
            ("Jihua", "吉华"),
            ("Nanwan", "南湾"),
            ("Henggang", "横岗"),
            ("Yuanshan", "园山"),
            ("Longcheng", "龙城"),
            ("Longgang", "龙岗"),
            ("Baolong", "宝龙"),
            ("Pingdi", "坪地"),
        ],
        hospitals: &[
            ("CH", "Longgang Central Hospital", "龙岗中心医院", Lead),
            (
                "PH",
                "Longgang District People's Hospital",
                "龙岗区人民医院",
                Lead,
            ),
            (
                "PH3",
                "Longgang District Third People's Hospital",
                "龙岗区第三人民医院",
                Lead,
            ),
            (
                "PH2",
                "Longgang District Second People's Hospital",
                "龙岗区第二人民医院",
                General,
            ),
            (
                "PH4",
                "Longgang District Fourth People's Hospital",
                "龙岗区第四人民医院",
                General,
            ),
            (
                "PH5",
                "Longgang District Fifth People's Hospital",
                "龙岗区第五人民医院",
                General,
            ),
            (
                "TCM",
                "Longgang District Hospital of Traditional Chinese Medicine",
                "龙岗区中医院",
                Tcm,
            ),
            (
                "MCH",
                "Longgang District Maternal and Child Health Hospital",
                "龙岗区妇幼保健院",
                Maternal,
            ),
            (
                "ORTH",
                "Longgang District Orthopaedic Hospital",
                "龙岗区骨科医院",
                Specialty,
            ),
            (
                "ENT",
                "Longgang District ENT Hospital",
                "龙岗区耳鼻咽喉医院",
                Specialty,
            ),
            (
                "SZ3",
                "Shenzhen Third People's Hospital",
                "深圳市第三人民医院",
                Large,
            ),
            (
                "CAMS",
                "Cancer Hospital, Chinese Academy of Medical Sciences, Shenzhen",
                "中国医学科学院肿瘤医院深圳医院",
                Large,
            ),
            (
                "BUCM",
                "Shenzhen Hospital, Beijing University of Chinese Medicine",
                "北京中医药大学深圳医院",
                Tcm,
            ),
            (
                "SAMII",
                "Shenzhen Samii Medical Center",
                "深圳市萨米医疗中心",
                General,
            ),
        ],
    },
    DistrictFacts {
        code: "LH",
        name: "Longhua",
        name_zh: "龙华区",
        population: 2_529_000,
        area_km2: 175.6,
        site: (114.030, 22.687),
        centres: Some(125),
        subdistricts: &[
            ("Guanlan", "观澜"),
            ("Fucheng", "福城"),
            ("Guanhu", "观湖"),
            ("Dalang", "大浪"),
            ("Longhua", "龙华"),
            ("Minzhi", "民治"),
        ],
        hospitals: &[
            (
                "PH",
                "Longhua District People's Hospital",
                "龙华区人民医院",
                Lead,
            ),
            (
                "CH",
                "Longhua District Central Hospital",
                "龙华区中心医院",
                Lead,
            ),
            (
                "MCH",
                "Longhua District Maternal and Child Health Hospital",
                "龙华区妇幼保健院",
                Maternal,
            ),
            (
                "SZPH",
                "Shenzhen People's Hospital Longhua Branch",
                "深圳市人民医院龙华分院",
                General,
            ),
            (
                "TCM",
                "Longhua District Hospital of Traditional Chinese Medicine",
                "龙华区中医院",
                Tcm,
            ),
        ],
    },
    DistrictFacts {
        code: "PS",
        name: "Pingshan",
        name_zh: "坪山区",
        population: 551_000,
        area_km2: 166.0,
        site: (114.355, 22.705),
        centres: None,
        subdistricts: &[
            ("Pingshan", "坪山"),
            ("Maluan", "马峦"),
            ("Biling", "碧岭"),
            ("Shijing", "石井"),
            ("Kengzi", "坑梓"),
            ("Longtian", "龙田"),
        ],
        hospitals: &[
            (
                "PH",
                "Pingshan District People's Hospital",
                "坪山区人民医院",
                Lead,
            ),
            (
                "CH",
                "Pingshan District Central Hospital",
                "坪山区中心医院",
                General,
            ),
            (
                "MCH",
                "Pingshan District Maternal and Child Health Hospital",
                "坪山区妇幼保健院",
                Maternal,
            ),
            (
                "TCM",
                "Pingshan District Hospital of Traditional Chinese Medicine",
                "坪山区中医院",
                Tcm,
            ),
        ],
    },
    DistrictFacts {
        code: "GM",
        name: "Guangming",
        name_zh: "光明区",
        population: 1_095_000,
        area_km2: 155.44,
        site: (113.925, 22.775),
        centres: None,
        subdistricts: &[
            ("Guangming", "光明"),
            ("Gongming", "公明"),
            ("Xinhu", "新湖"),
            ("Fenghuang", "凤凰"),
            ("Yutang", "玉塘"),
            ("Matian", "马田"),
        ],
        hospitals: &[
            (
                "PH",
                "Guangming District People's Hospital",
                "光明区人民医院",
                Lead,
            ),
            (
                "SYSU7",
                "The Seventh Affiliated Hospital, Sun Yat-sen University",
                "中山大学附属第七医院",
                Large,
            ),
            (
                "CH",
                "Guangming District Central Hospital",
                "光明区中心医院",
                General,
            ),
            (
                "UCAS",
                "University of Chinese Academy of Sciences Shenzhen Hospital",
                "中国科学院大学深圳医院",
                General,
            ),
            (
                "MCH",
                "Guangming District Maternal and Child Health Hospital",
                "光明区妇幼保健院",
                Maternal,
            ),
        ],
    },
    DistrictFacts {
        code: "DP",
        name: "Dapeng New District",
        name_zh: "大鹏新区",
        population: 156_000,
        area_km2: 295.32,
        site: (114.490, 22.570),
        centres: None,
        subdistricts: &[("Kuichong", "葵涌"), ("Dapeng", "大鹏"), ("Nan'ao", "南澳")],
        hospitals: &[
            (
                "KC",
                "Dapeng New District Kuichong People's Hospital",
                "大鹏新区葵涌人民医院",
                Lead,
            ),
            (
                "NA",
                "Dapeng New District Nan'ao People's Hospital",
                "大鹏新区南澳人民医院",
                General,
            ),
            (
                "MCH",
                "Dapeng New District Maternal and Child Health Hospital",
                "大鹏新区妇幼保健院",
                Maternal,
            ),
        ],
    },
];

/// Community health centres on the whole map: "600+" on the city platform; the
/// issue asks for about 650.
pub(super) const CITY_CENTRES: usize = 650;

/// The city's outline (lon, lat), clockwise from Shekou: illustrative, drawn by
/// hand along the coast, the Shenzhen River and the borders with Dongguan and
/// Huizhou, to within a few kilometres.
pub(super) const OUTLINE: [(f64, f64); 41] = [
    (113.905, 22.475), // Shekou
    (113.935, 22.495),
    (113.975, 22.505), // Shenzhen Bay
    (114.010, 22.515), // Futian mangroves: the Shenzhen River's mouth
    (114.045, 22.510), // Huanggang
    (114.080, 22.515),
    (114.110, 22.528), // Luohu port
    (114.150, 22.540),
    (114.180, 22.553), // Liantang
    (114.225, 22.545), // Shatoujiao: the border's east end
    (114.260, 22.558), // Yantian port
    (114.300, 22.575),
    (114.340, 22.592), // Xiaomeisha
    (114.400, 22.600), // Dapeng Bay
    (114.440, 22.560),
    (114.460, 22.520), // Nan'ao
    (114.500, 22.455),
    (114.560, 22.470),
    (114.600, 22.540),
    (114.575, 22.600), // Daya Bay
    (114.545, 22.650),
    (114.470, 22.690), // Huizhou border
    (114.420, 22.730),
    (114.380, 22.790), // Kengzi
    (114.300, 22.795), // Pingdi
    (114.240, 22.765),
    (114.180, 22.785),
    (114.120, 22.770), // Pinghu
    (114.080, 22.805), // Guanlan
    (114.020, 22.815),
    (113.960, 22.835), // Guangming
    (113.900, 22.865),
    (113.850, 22.835), // Songgang
    (113.790, 22.805),
    (113.755, 22.770), // Shajing coast
    (113.775, 22.700),
    (113.795, 22.650), // airport coast
    (113.830, 22.590), // Xixiang
    (113.865, 22.545), // Qianhai
    (113.880, 22.515),
    (113.890, 22.490),
];

/// The stretch of `OUTLINE` along the Shenzhen River and the land border with Hong
/// Kong, from its mouth to Shatoujiao (indices, inclusive).
pub(super) const BORDER: (usize, usize) = (3, 9);

/// How wide the illustrative no-fly band along the border is, metres.
pub(super) const BORDER_BAND_M: f64 = 400.0;

/// Rectangular no-fly zones besides the border band and Longhua's three:
/// (name, lon, lat, width m, height m). Illustrative.
pub(super) const ZONES: [(&str, f64, f64, f64, f64); 5] = [
    (
        "Shenzhen Bao'an International Airport",
        113.811,
        22.639,
        5_000.0,
        3_500.0,
    ),
    ("Shenzhen Bay Port", 113.946, 22.508, 900.0, 600.0),
    (
        "Yantian container terminals",
        114.278,
        22.580,
        2_500.0,
        900.0,
    ),
    ("Shenzhen Reservoir", 114.150, 22.575, 1_300.0, 1_000.0),
    (
        "Daya Bay Nuclear Power Plant",
        114.548,
        22.600,
        3_000.0,
        3_000.0,
    ),
];
