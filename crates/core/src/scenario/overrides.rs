//! `--set key.path=value` overrides: a dotted key sets a field that already exists
//! in the scenario's TOML, before it is read and validated.

/// Sets `a.b.c = value` in a TOML table; the key must already exist, so a typo
/// in `--set` is an error rather than a silently ignored field.
pub(super) fn set_dotted(doc: &mut toml::Table, key: &str, value: &str) -> Result<(), String> {
    let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|l| !l.is_empty()).ok_or("empty key")?;
    let mut table = doc;
    for part in parts {
        table = table
            .get_mut(part)
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| format!("no table `{part}` in the scenario"))?;
    }
    match table.get_mut(last) {
        Some(slot) => {
            *slot = parsed;
            Ok(())
        }
        None => Err(format!("no field `{last}` to override")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::shipped;
    use super::super::format::Scenario;

    #[test]
    fn overrides_set_existing_fields_and_refuse_typos() {
        let s = Scenario::load_with_overrides(&shipped(), &[("fleet.drones".into(), "20".into())])
            .unwrap();
        assert_eq!(s.fleet.drones, 20);
        let err = Scenario::load_with_overrides(&shipped(), &[("fleet.drone".into(), "20".into())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fleet.drone") && err.contains("no field"),
            "{err}"
        );
    }
}
