//! Where a deployment's topics live: today's district layout
//! (`labflight/v1/drones/…`), or one subtree per partition
//! (`labflight/v1/p/{partition}/drones/…`) so that a partition's owner subscribes
//! to its own partition's traffic only; `both` is the migration step between
//! them (the service listens on both and publishes on both). Inside the service
//! and the journal every topic stays in its district (canonical) form: the
//! layout is applied at the MQTT edge, on the way in and out.

use crate::topics::{PREFIX, SERVICE_SUBSCRIPTIONS};

/// The subtree of partitioned topics under the prefix.
const PARTITIONS: &str = "p";

/// A deployment's topic layout.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TopicLayout {
    /// `labflight/v1/…`: one district per broker (the default, and contract v1).
    #[default]
    District,
    /// `labflight/v1/p/{partition}/…` only.
    Partitioned(String),
    /// Both (migration): listen on both, publish on both.
    Both(String),
}

impl TopicLayout {
    /// `district`, `partitioned` or `both`, for `partition`; a partition name must
    /// be one topic level of letters, digits, `-`, `_` or `.` (at most 64).
    pub fn parse(layout: &str, partition: &str) -> Result<TopicLayout, String> {
        let checked = || -> Result<String, String> {
            let ok = !partition.is_empty()
                && partition.len() <= 64
                && partition
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if ok {
                Ok(partition.to_owned())
            } else {
                Err(format!(
                    "partition `{partition}`: not usable in a topic (1-64 letters, digits, `-`, `_`, `.`)"
                ))
            }
        };
        match layout {
            "district" => Ok(TopicLayout::District),
            "partitioned" => Ok(TopicLayout::Partitioned(checked()?)),
            "both" => Ok(TopicLayout::Both(checked()?)),
            other => Err(format!(
                "topic layout `{other}`: expected `district`, `partitioned` or `both`"
            )),
        }
    }

    /// The layout's name, as `parse` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            TopicLayout::District => "district",
            TopicLayout::Partitioned(_) => "partitioned",
            TopicLayout::Both(_) => "both",
        }
    }

    /// The topic prefix of the partition's own subtree (none in the district layout).
    fn partition_prefix(&self) -> Option<String> {
        match self {
            TopicLayout::District => None,
            TopicLayout::Partitioned(p) | TopicLayout::Both(p) => {
                Some(format!("{PREFIX}/{PARTITIONS}/{p}"))
            }
        }
    }

    /// Whether today's district topics are used.
    fn district(&self) -> bool {
        !matches!(self, TopicLayout::Partitioned(_))
    }

    /// Where a topic in its district form is published: one topic, or two while
    /// migrating (`both`), the district one first.
    pub fn outgoing(&self, canonical: &str) -> Vec<String> {
        let mut out = Vec::with_capacity(2);
        if self.district() {
            out.push(canonical.to_owned());
        }
        if let (Some(prefix), Some(rest)) =
            (self.partition_prefix(), canonical.strip_prefix(PREFIX))
        {
            out.push(format!("{prefix}{rest}"));
        }
        out
    }

    /// The one topic a device publishes or listens on (a device uses one layout;
    /// in `both` that is the partitioned one).
    pub fn device_topic(&self, canonical: &str) -> String {
        self.outgoing(canonical)
            .pop()
            .unwrap_or_else(|| canonical.to_owned())
    }

    /// The district form of a topic that arrived, if it is this layout's: its own
    /// partition's subtree, or the district topics where those are used. Anything
    /// else (another partition's subtree) is `None`.
    pub fn incoming<'a>(&self, topic: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        if let Some(prefix) = self.partition_prefix()
            && let Some(rest) = topic.strip_prefix(prefix.as_str())
            && rest.starts_with('/')
        {
            return Some(format!("{PREFIX}{rest}").into());
        }
        let other_partition = topic
            .strip_prefix(PREFIX)
            .is_some_and(|r| r.starts_with(&format!("/{PARTITIONS}/")));
        (self.district() && !other_partition).then_some(topic.into())
    }

    /// The filters the service subscribes to in this layout.
    pub fn service_filters(&self) -> Vec<String> {
        SERVICE_SUBSCRIPTIONS
            .iter()
            .flat_map(|f| self.outgoing(f))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::Topic;

    #[test]
    fn the_district_layout_is_todays_topics() {
        let l = TopicLayout::District;
        let t = Topic::DroneCmd("D-01".into()).to_string();
        assert_eq!(l.outgoing(&t), vec![t.clone()]);
        assert_eq!(l.device_topic(&t), t);
        assert_eq!(l.incoming(&t).as_deref(), Some(t.as_str()));
        assert_eq!(l.service_filters(), SERVICE_SUBSCRIPTIONS.map(String::from));
        // A partition's subtree is not a district topic.
        assert_eq!(l.incoming("labflight/v1/p/north/drones/D-01/events"), None);
    }

    #[test]
    fn a_partitioned_layout_keeps_to_its_partition() {
        let l = TopicLayout::parse("partitioned", "north").unwrap();
        let t = Topic::DroneTelemetry("D-01".into()).to_string();
        let own = "labflight/v1/p/north/drones/D-01/telemetry";
        assert_eq!(l.outgoing(&t), [own]);
        assert_eq!(l.device_topic(&t), own);
        assert_eq!(l.incoming(own).as_deref(), Some(t.as_str()));
        assert_eq!(l.incoming(&t), None, "district topics are not listened to");
        assert_eq!(
            l.incoming("labflight/v1/p/south/drones/D-01/telemetry"),
            None
        );
        assert_eq!(
            l.incoming("labflight/v1/p/northern/drones/D-01/telemetry"),
            None
        );
        assert!(
            l.service_filters()
                .iter()
                .all(|f| f.starts_with("labflight/v1/p/north/")),
            "{:?}",
            l.service_filters()
        );
        assert_eq!(l.service_filters().len(), SERVICE_SUBSCRIPTIONS.len());
    }

    #[test]
    fn both_listens_and_publishes_on_both() {
        let l = TopicLayout::parse("both", "north").unwrap();
        let t = Topic::StationCmd("C-1".into()).to_string();
        assert_eq!(
            l.outgoing(&t),
            [
                t.clone(),
                "labflight/v1/p/north/stations/C-1/cmd".to_owned()
            ]
        );
        assert_eq!(l.device_topic(&t), "labflight/v1/p/north/stations/C-1/cmd");
        assert_eq!(l.incoming(&t).as_deref(), Some(t.as_str()));
        assert_eq!(
            l.incoming("labflight/v1/p/north/stations/C-1/cmd")
                .as_deref(),
            Some(t.as_str())
        );
        assert_eq!(l.incoming("labflight/v1/p/south/weather"), None);
        assert_eq!(l.service_filters().len(), 2 * SERVICE_SUBSCRIPTIONS.len());
    }

    #[test]
    fn bad_layouts_and_partition_names_are_named() {
        let e = TopicLayout::parse("sharded", "north").unwrap_err();
        assert!(e.contains("`sharded`"), "{e}");
        for bad in ["", "a/b", "a+b", "#", &"x".repeat(65)] {
            let e = TopicLayout::parse("partitioned", bad).unwrap_err();
            assert!(e.contains("partition"), "{e}");
        }
        assert_eq!(
            TopicLayout::parse("district", "a/b"),
            Ok(TopicLayout::District)
        );
    }
}
