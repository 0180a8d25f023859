//! HL7 v2 over MLLP: one framed message out, one framed ACK back, bounded in time
//! and in the bytes read, for the centres whose systems predate FHIR.

use std::time::Duration;

/// Most bytes read while waiting for an acknowledgement.
const MAX_ACK_BYTES: usize = 1 << 20;

/// Sends one HL7 v2 message over MLLP and waits for an `AA` acknowledgement, the
/// whole exchange within `within`.
pub async fn send(addr: &str, message: &str, within: Duration) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("MLLP {addr}: {e}"))?;
        stream
            .write_all(&labflight_hooks::hl7::frame(message))
            .await
            .map_err(|e| format!("MLLP {addr}: {e}"))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| format!("MLLP {addr}: {e}"))?;
            if n == 0 {
                return Err(format!("MLLP {addr}: closed before acknowledging"));
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(ack) = labflight_hooks::hl7::unframe(&buf) {
                return match labflight_hooks::hl7::ack_code(ack) {
                    Some("AA") | Some("CA") => Ok(()),
                    other => Err(format!("MLLP {addr}: acknowledged {other:?}")),
                };
            }
            if buf.len() > MAX_ACK_BYTES {
                return Err(format!("MLLP {addr}: no acknowledgement in 1 MB"));
            }
        }
    };
    tokio::time::timeout(within, exchange)
        .await
        .map_err(|_| format!("MLLP {addr}: no acknowledgement within {within:?}"))?
}
