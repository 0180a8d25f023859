//! Hospital laboratories: what they run, on which analyzers, and when they are open.

use crate::{GroupId, LabId, LatLon, OpeningHours};
use serde::{Deserialize, Serialize};

/// A lab discipline that an analyzer serves and a test needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestFamily {
    /// Blood counts (EDTA).
    Hematology,
    /// Clinical chemistry (serum).
    Chemistry,
    /// Immunoassays (serum).
    Immunoassay,
    /// HbA1c (EDTA).
    Hba1c,
    /// Coagulation (citrate).
    Coagulation,
}

impl TestFamily {
    /// Every family, in order.
    pub const ALL: [TestFamily; 5] = [
        TestFamily::Hematology,
        TestFamily::Chemistry,
        TestFamily::Immunoassay,
        TestFamily::Hba1c,
        TestFamily::Coagulation,
    ];

    /// The family's name, as it is serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            TestFamily::Hematology => "hematology",
            TestFamily::Chemistry => "chemistry",
            TestFamily::Immunoassay => "immunoassay",
            TestFamily::Hba1c => "hba1c",
            TestFamily::Coagulation => "coagulation",
        }
    }
}

/// One analyzer line: how many tubes an hour it takes in and how long one run lasts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analyzer {
    /// Its id at the lab.
    pub id: String,
    /// The test family it runs.
    pub family: TestFamily,
    /// Throughput.
    pub tubes_per_hour: f64,
    /// Minutes from the start of a tube's run to its result.
    pub run_minutes: f64,
}

/// A hospital lab that receives boxes and runs tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lab {
    /// Its id.
    pub id: LabId,
    /// Its name, for people.
    pub name: String,
    /// The same name in Chinese, for the coordinators' dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// The medical group whose HQ lab this is, if any.
    pub group: Option<GroupId>,
    /// The medical group a lab that leads none belongs to (a member hospital, or
    /// the group whose area it lies in), on maps that say so: with `group`, the
    /// lab's partition key (`Lab::medical_group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_of: Option<GroupId>,
    /// The district it lies in, on a map of several districts (the city's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Where it is.
    pub position: LatLon,
    /// Its analyzers.
    pub analyzers: Vec<Analyzer>,
    /// Reception, sorting and centrifugation before analysis.
    pub reception_minutes: f64,
    /// Result verification after analysis.
    pub verification_minutes: f64,
    /// When it receives boxes.
    pub hours: OpeningHours,
}

impl Lab {
    /// The medical group the lab belongs to: the one it leads, else the one it is a member of.
    pub fn medical_group(&self) -> Option<&GroupId> {
        self.group.as_ref().or(self.member_of.as_ref())
    }

    /// Whether this lab has at least one analyzer for `family`.
    pub fn runs(&self, family: TestFamily) -> bool {
        self.analyzers.iter().any(|a| a.family == family)
    }

    /// The first of `families` the lab does not run, if any: a box holding a tube
    /// that needs it must not be sent here.
    pub fn lacks<'a>(
        &self,
        families: impl IntoIterator<Item = &'a TestFamily>,
    ) -> Option<TestFamily> {
        families.into_iter().copied().find(|f| !self.runs(*f))
    }

    /// The test families the lab runs, each once, in a stable order.
    pub fn families(&self) -> Vec<TestFamily> {
        TestFamily::ALL
            .into_iter()
            .filter(|f| self.runs(*f))
            .collect()
    }
}
