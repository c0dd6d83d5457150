//! QR codes as module grids: error correction M, a four-module quiet zone, at most
//! [`MAX_QR_VERSION`] so that every code stays readable at arm's length. Pure; the screen scales
//! the modules up without smoothing.

use qrcode::{Color, EcLevel, QrCode, Version};

use crate::takeaway::MAX_QR_VERSION;

/// The modules of a QR code as grey levels, quiet zone included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    /// Modules across (and down), quiet zone included.
    pub size: usize,
    /// `size * size` values: `true` for a dark module.
    pub dark: Vec<bool>,
}

const QUIET_ZONE: usize = 4;

/// Encodes text (an address or a checklist) at error correction level M, in the smallest version
/// that holds it; `None` when that is larger than [`MAX_QR_VERSION`].
pub fn encode(text: &str) -> Option<QrModules> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    match code.version() {
        Version::Normal(v) if v <= MAX_QR_VERSION => {}
        _ => return None,
    }
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let mut dark = vec![false; size * size];
    for y in 0..width {
        for x in 0..width {
            if code[(x, y)] == Color::Dark {
                dark[(y + QUIET_ZONE) * size + x + QUIET_ZONE] = true;
            }
        }
    }
    Some(QrModules { size, dark })
}

/// No text longer than this fits a code of [`MAX_QR_VERSION`] at level M, whatever its mode
/// (numeric mode holds the most: 1,600 digits).
const MAX_PAYLOAD_BYTES: usize = 1_700;

/// Whether text fits a readable code: the encoder's choice of segments and version alone,
/// without drawing the code (cheap, so a checklist can be shortened to fit).
pub fn fits(text: &str) -> bool {
    text.len() <= MAX_PAYLOAD_BYTES
        && qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M)
            .is_ok_and(|bits| matches!(bits.version(), Version::Normal(v) if v <= MAX_QR_VERSION))
}

impl QrModules {
    /// The code as an RGBA image, `scale` pixels a module, dark on white.
    pub fn to_rgba(&self, scale: usize) -> (usize, Vec<u8>) {
        let side = self.size * scale;
        let mut pixels = vec![255u8; side * side * 4];
        for y in 0..side {
            for x in 0..side {
                if self.dark[(y / scale) * self.size + x / scale] {
                    let at = (y * side + x) * 4;
                    pixels[at..at + 3].fill(0);
                }
            }
        }
        (side, pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_a_quiet_zone() {
        let code = encode("https://www.qljkq.gov.cn/art/2024/3/15/art_1532_86421.html").unwrap();
        assert!(code.size >= 21 + 8);
        // The quiet zone is light all round.
        assert!(
            (0..code.size).all(|i| !code.dark[i] && !code.dark[(code.size - 1) * code.size + i])
        );
        // The top-left finder pattern starts right after it.
        assert!(code.dark[4 * code.size + 4]);
        let (side, pixels) = code.to_rgba(3);
        assert!(
            encode(&"长".repeat(300)).is_none(),
            "too large to read at arm's length"
        );
        assert_eq!(side, code.size * 3);
        assert_eq!(pixels.len(), side * side * 4);
    }
}
