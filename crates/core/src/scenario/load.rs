//! Reading a scenario file: parse the TOML, apply `--set` overrides, read it into
//! a `Scenario` and validate it; and where its map folder is.

use super::format::Scenario;
use super::overrides::set_dotted;
use crate::ConfigError;
use std::path::{Path, PathBuf};

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
        Self::load_with_overrides(path, &[])
    }

    /// Like `load`, with `key.path=value` overrides applied before validation
    /// (`fleet.drones=20`). Values parse as TOML, falling back to a string.
    pub fn load_with_overrides(
        path: &Path,
        overrides: &[(String, String)],
    ) -> Result<Scenario, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Io {
            file: path.to_owned(),
            reason,
        })?;
        let mut doc: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file: path.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        for (key, value) in overrides {
            set_dotted(&mut doc, key, value)
                .map_err(|reason| ConfigError::invalid(path, key, value, reason))?;
        }
        let scenario: Scenario =
            doc.try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    file: path.to_owned(),
                    message: e.to_string().trim().replace('\n', " "),
                })?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// The map folder, resolved against the scenario file's folder.
    pub fn map_dir(&self, scenario_file: &Path) -> PathBuf {
        scenario_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(&self.map)
    }
}
