//! HL7 v2.5.1 for centres whose information system predates FHIR: a verified
//! result rendered as an ORU^R01 message, and the MLLP framing it travels in
//! (`0x0B` … `0x1C 0x0D`) with the receiver's ACK read back. No patient data: the
//! patient is identified only as the anonymous owner of the specimen.

use crate::fhir::{LabResult, ObservationValue};
use chrono::{DateTime, Utc};

const START: u8 = 0x0B;
const END: [u8; 2] = [0x1C, 0x0D];

/// HL7 escaping of the delimiters `| ^ ~ \ &` inside a field; every control
/// character — the MLLP framing bytes `0x0B` and `0x1C`, the segment separator
/// `\r`, and the rest — becomes a space, so no field value (a hostile barcode, a
/// lab's text) can end a segment, a message or a frame.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '~' => out.push_str("\\R\\"),
            '\\' => out.push_str("\\E\\"),
            '&' => out.push_str("\\T\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `YYYYMMDDHHMMSS+0800`: HL7 time in China Standard Time.
fn ts(t: DateTime<Utc>) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.with_timezone(&cst).format("%Y%m%d%H%M%S%z").to_string()
}

fn flag(o: &ObservationValue) -> &'static str {
    match (o.low, o.high) {
        (Some(low), _) if o.value < low => "L",
        (_, Some(high)) if o.value > high => "H",
        (Some(_), _) | (_, Some(_)) => "N",
        _ => "",
    }
}

/// The result as an ORU^R01 message (segments separated by carriage returns).
pub fn oru_r01(r: &LabResult, control_id: &str) -> String {
    let mut segs = vec![
        format!(
            "MSH|^~\\&|LABFLIGHT|{}|HIS|{}|{}||ORU^R01^ORU_R01|{}|P|2.5.1",
            esc(&r.lab),
            esc(&r.station),
            ts(r.issued_at),
            esc(control_id)
        ),
        // Anonymous: the centre links the result by the specimen barcode.
        format!(
            "PID|1||{}^^^LABFLIGHT^SID||ANONYMOUS^PATIENT",
            esc(&r.barcode)
        ),
        format!(
            "OBR|1|{}|{}|11502-2^Laboratory report^LN|||{}|||||||||||||||{}||LAB|F",
            esc(&r.barcode),
            esc(&r.report_id),
            ts(r.collected_at),
            ts(r.issued_at)
        ),
    ];
    for (i, o) in r.observations.iter().enumerate() {
        let range = match (o.low, o.high) {
            (Some(l), Some(h)) => format!("{l}-{h}"),
            (Some(l), None) => format!(">{l}"),
            (None, Some(h)) => format!("<{h}"),
            (None, None) => String::new(),
        };
        segs.push(format!(
            "OBX|{}|NM|{}^{}^LN||{}|{}^^UCUM|{}|{}|||F|||{}",
            i + 1,
            esc(&o.loinc),
            esc(&o.display),
            o.value,
            esc(&o.unit),
            esc(&range),
            flag(o),
            ts(r.issued_at)
        ));
    }
    segs.push(format!(
        "SPM|1|{}||||||||||||||||{}",
        esc(&r.barcode),
        ts(r.collected_at)
    ));
    segs.join("\r")
}

/// Wraps a message in MLLP framing.
pub fn frame(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&END);
    out
}

/// The message inside one MLLP frame, if `bytes` holds a whole one.
pub fn unframe(bytes: &[u8]) -> Option<&str> {
    let start = bytes.iter().position(|b| *b == START)?;
    let end = bytes.windows(2).position(|w| w == END)?;
    std::str::from_utf8(bytes.get(start + 1..end)?).ok()
}

/// The acknowledgement code of an ACK message (`AA`, `AE`, `AR`), from its MSA segment.
pub fn ack_code(message: &str) -> Option<&str> {
    message
        .split('\r')
        .find(|s| s.starts_with("MSA|"))
        .and_then(|s| s.split('|').nth(1))
}

/// An ACK for `message` (what a receiver answers).
pub fn ack(message: &str, code: &str) -> String {
    let control = message
        .split('\r')
        .next()
        .and_then(|msh| msh.split('|').nth(9))
        .unwrap_or("");
    format!(
        "MSH|^~\\&|HIS||LABFLIGHT||{}||ACK^R01^ACK|A{control}|P|2.5.1\rMSA|{code}|{control}",
        ts(Utc::now())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn result() -> LabResult {
        let at = Utc.with_ymd_and_hms(2026, 6, 15, 1, 0, 0).unwrap();
        LabResult {
            report_id: "R-1".into(),
            barcode: "LH-C001-0001".into(),
            station: "LH-C001".into(),
            lab: "LAB-PH".into(),
            collected_at: at,
            issued_at: at + chrono::Duration::hours(2),
            observations: vec![ObservationValue {
                loinc: "14749-6".into(),
                display: "Glucose [Moles/volume] in Serum or Plasma".into(),
                value: 7.2,
                unit: "mmol/L".into(),
                low: Some(3.9),
                high: Some(6.1),
            }],
        }
    }

    #[test]
    fn oru_r01_carries_the_result_and_no_patient_data() {
        let m = oru_r01(&result(), "C1");
        let segs: Vec<&str> = m.split('\r').collect();
        assert!(
            segs[0]
                .starts_with("MSH|^~\\&|LABFLIGHT|LAB-PH|HIS|LH-C001|20260615110000+0800||ORU^R01"),
            "{}",
            segs[0]
        );
        assert_eq!(
            segs[1],
            "PID|1||LH-C001-0001^^^LABFLIGHT^SID||ANONYMOUS^PATIENT"
        );
        let obx = segs.iter().find(|s| s.starts_with("OBX|")).unwrap();
        let f: Vec<&str> = obx.split('|').collect();
        assert_eq!(f[3], "14749-6^Glucose [Moles/volume] in Serum or Plasma^LN");
        assert_eq!(
            (f[5], f[6], f[7], f[8]),
            ("7.2", "mmol/L^^UCUM", "3.9-6.1", "H")
        );
        assert!(segs.last().unwrap().starts_with("SPM|1|LH-C001-0001"));
    }

    #[test]
    fn delimiters_in_text_are_escaped() {
        assert_eq!(esc("a|b^c~d\\e&f"), "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f");
    }

    #[test]
    fn a_hostile_barcode_cannot_break_the_framing_or_the_segments() {
        let normal = oru_r01(&result(), "C1").split('\r').count();
        let mut r = result();
        r.barcode = "T-1\x0b\x1c\rMSH|^~\\&|EVIL\x1c\x0d\x0bPID|1\n\x00".into();
        r.report_id = "R\x1c\x0d".into();
        r.observations[0].unit = "mmol/L\rOBX|9".into();
        let m = oru_r01(&r, "C\x0b1");
        assert!(
            !m.bytes()
                .any(|b| b == 0x0B || b == 0x1C || b == b'\n' || b == 0),
            "{m:?}"
        );
        let framed = frame(&m);
        // Exactly one frame: one start byte, one end sequence, at the ends.
        assert_eq!(framed.iter().filter(|b| **b == 0x0B).count(), 1);
        assert_eq!(framed.windows(2).filter(|w| *w == END).count(), 1);
        let inside = unframe(&framed).expect("one whole frame");
        assert_eq!(inside, m);
        let segs: Vec<&str> = inside.split('\r').collect();
        assert_eq!(segs.len(), normal, "{segs:?}");
        assert_eq!(segs.iter().filter(|s| s.starts_with("MSH|")).count(), 1);
        assert_eq!(segs.iter().filter(|s| s.starts_with("PID|")).count(), 1);
        assert!(segs[1].contains("T-1   MSH\\F\\\\S\\"), "{}", segs[1]);
    }

    #[test]
    fn framing_round_trips_and_acks_are_read() {
        let m = oru_r01(&result(), "C7");
        let framed = frame(&m);
        assert_eq!(framed[0], 0x0B);
        assert_eq!(unframe(&framed), Some(m.as_str()));
        assert_eq!(unframe(&framed[..framed.len() - 1]), None);
        let a = ack(&m, "AA");
        assert_eq!(ack_code(&a), Some("AA"));
        assert!(a.ends_with("MSA|AA|C7"), "{a}");
    }
}
