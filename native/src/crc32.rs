//! CRC-32 as zlib computes it (IEEE 802.3, reflected polynomial `0xEDB88320`), the checksum OKX
//! and Kraken put on their books. Slicing by 8 bytes with tables built at compile time: a book
//! checksum covers under 2 KB, so this is as fast as it needs to be without another crate.

const POLYNOMIAL: u32 = 0xEDB8_8320;

/// `TABLES[0]` is the classic byte table; `TABLES[k]` advances a byte through `k` more zero bytes.
static TABLES: [[u32; 256]; 8] = tables();

const fn tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { POLYNOMIAL ^ (crc >> 1) } else { crc >> 1 };
            bit += 1;
        }
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut byte = 0;
    while byte < 256 {
        let mut slice = 1;
        while slice < 8 {
            let previous = tables[slice - 1][byte];
            tables[slice][byte] = (previous >> 8) ^ tables[0][(previous & 0xFF) as usize];
            slice += 1;
        }
        byte += 1;
    }
    tables
}

/// `zlib.crc32(bytes)`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let table = |slice: usize, index: u32| TABLES[slice][(index & 0xFF) as usize];
    let mut crc = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let low = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ crc;
        let high = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        crc = table(7, low)
            ^ table(6, low >> 8)
            ^ table(5, low >> 16)
            ^ table(4, low >> 24)
            ^ table(3, high)
            ^ table(2, high >> 8)
            ^ table(1, high >> 16)
            ^ table(0, high >> 24);
    }
    for &byte in chunks.remainder() {
        crc = table(0, crc ^ u32::from(byte)) ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-by-bit definition, to check the tables against.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { POLYNOMIAL ^ (crc >> 1) } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn every_length_and_alignment_matches_the_definition() {
        let bytes: Vec<u8> = (0..300u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in 0..9 {
            for end in start..bytes.len() {
                assert_eq!(crc32(&bytes[start..end]), crc32_bitwise(&bytes[start..end]));
            }
        }
    }
}
